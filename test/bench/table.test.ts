// bench/table.js: how a run's targets are judged — a failed or unmeasured case never meets one, and a bound is shown, never counted.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { annotate, renderTable } = require('../../bench/table') as {
  annotate(run: { rows: object[] }): { targets: { target: string; value: number; valueCpu: number; bound?: boolean }[] };
  renderTable(run: object): string;
};

const POST = 'bare Express POST, form body';
const FIRST = 'ours: token, first-contact clients (bcrypt), RS256';
const PEER = 'oauth2orize + passport-http (bcrypt each request)';

/** A run with the bare POST, the bcrypt peer and the first-contact case as given. */
function run(first: object) {
  return {
    rows: [
      { name: `${POST} (start)`, group: 'ceiling', ceiling: POST, rps: 5000, cpuUsPerRequest: 100 },
      { name: PEER, group: 'bcrypt', peer: true, baseline: POST, rps: 10, cpuUsPerRequest: 90_000 },
      { name: FIRST, group: 'bcrypt', ours: true, baseline: POST, peers: [PEER], ...first },
    ],
  };
}

/** The "met" cell of the table row whose target starts with `prefix`. */
function met(table: string, prefix: string): string | undefined {
  const line = table.split('\n').find((l) => l.startsWith(`| ${prefix}`));
  return line?.split('|').at(-2)?.trim();
}

describe('bench table targets', () => {
  it('counts a measured case that reaches its target as met', () => {
    const table = renderTable(annotate(run({ rps: 1500, cpuUsPerRequest: 600, eventLoopDelay: { p99: 3 } })));
    expect(met(table, 'token, first contact ≥')).toBe('yes');
    expect(met(table, 'token, first contact: event-loop')).toBe('yes');
  });

  it('shows the target of a failed case as not met, whatever figures the failed run left', () => {
    const failed = { rps: 1500, cpuUsPerRequest: 600, eventLoopDelay: { p99: 3 }, failed: 'unexpected: 10293x 429' };
    const table = renderTable(annotate(run(failed)));
    expect(met(table, 'token, first contact ≥')).toBe('**no**');
    expect(met(table, 'token, first contact: event-loop')).toBe('**no**');
  });

  it('shows the target of an unmeasured case as not met', () => {
    const table = renderTable(annotate(run({ pending: 'no PostgreSQL' })));
    expect(met(table, 'token, first contact ≥')).toBe('**no**');
  });

  it('marks the ceiling rows of issue 16.2 as bounds, not as targets met or missed', () => {
    const annotated = annotate({
      rows: [
        { name: 'bare signing rate, RS256, no HTTP', group: 'signing', rps: 3600, cpuUsPerRequest: 264 },
        { name: `${POST} + RS256 signature`, group: 'ceiling', ceiling: `${POST} + RS256 signature`, baseline: POST, rps: 2400, cpuUsPerRequest: 400 },
      ],
    });
    const bound = annotated.targets.find((t) => t.target.startsWith('bound: bare Express POST + RS256'));
    expect(bound).toMatchObject({ bound: true, value: 2400 / 3600, valueCpu: 264 / 400 });
    expect(met(renderTable(annotated), 'bound: bare Express POST + RS256')).toBe('bound');
  });
});
