// Failed-authentication limits (lib/core/client-auth/failure-limits.ts): per address, per client id with back-off, trusted pairs.
import { FailureLimiter, MAX_COUNTED_KEYS, type FailureLimits } from '../../../lib/core/client-auth/failure-limits';
import { fakeClock } from '../../helpers';

const LIMITS: FailureLimits = {
  addressFailureLimit: 5,
  addressFailureWindow: 60,
  clientFailureLimit: 3,
  clientFailureWindow: 60,
  clientMaxBackoff: 4,
};

beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2026, 0, 1) }));
afterEach(() => jest.useRealTimers());

async function fail(limiter: FailureLimiter, times: number, clientId: string | undefined, address: string): Promise<void> {
  for (let i = 0; i < times; i++) await limiter.failure({ clientId, address });
}

describe('auth limiter', () => {
  it('refuses an address after addressFailureLimit failures until the window passes', async () => {
    const limiter = new FailureLimiter(LIMITS);
    await fail(limiter, 4, undefined, '10.0.0.1');
    expect(await limiter.check({ clientId: undefined, address: '10.0.0.1' })).toBeUndefined();
    await fail(limiter, 1, undefined, '10.0.0.1');
    expect(await limiter.check({ clientId: 'any', address: '10.0.0.1' })).toEqual({ limit: 'address', retryAfterSeconds: 60 });
    expect(await limiter.check({ clientId: 'any', address: '10.0.0.2' })).toBeUndefined();
    jest.advanceTimersByTime(30_000);
    expect(await limiter.check({ clientId: undefined, address: '10.0.0.1' })).toEqual({ limit: 'address', retryAfterSeconds: 30 });
    jest.advanceTimersByTime(30_001);
    expect(await limiter.check({ clientId: undefined, address: '10.0.0.1' })).toBeUndefined();
  });

  it('backs a client id off for 1 s, then 2 s, then 4 s (capped by clientMaxBackoff), never locking it for the window', async () => {
    const limiter = new FailureLimiter(LIMITS);
    const from = (n: number) => `10.1.0.${n}`;
    const seen: number[] = [];
    for (let round = 0; round < 4; round++) {
      await fail(limiter, 3, 'victim', from(round));
      const refusal = await limiter.check({ clientId: 'victim', address: '10.9.9.9' });
      expect(refusal?.limit).toBe('client');
      seen.push(refusal?.retryAfterSeconds ?? 0);
      jest.advanceTimersByTime((refusal?.retryAfterSeconds ?? 0) * 1000 + 1);
      expect(await limiter.check({ clientId: 'victim', address: '10.9.9.9' })).toBeUndefined();
    }
    expect(seen).toEqual([1, 2, 4, 4]);
  });

  it('exempts an address that authenticated as the client from that client id back-off, but not from its address limit', async () => {
    const limiter = new FailureLimiter(LIMITS);
    limiter.success({ clientId: 'real', address: '10.2.0.1' });
    await fail(limiter, 3, 'real', '10.66.0.1');
    expect((await limiter.check({ clientId: 'real', address: '10.2.0.2' }))?.limit).toBe('client');
    expect(await limiter.check({ clientId: 'real', address: '10.2.0.1' })).toBeUndefined();
    expect(limiter.isTrusted({ clientId: 'real', address: '10.2.0.1' })).toBe(true);
    expect(limiter.isTrusted({ clientId: 'other', address: '10.2.0.1' })).toBe(false);
    await fail(limiter, 5, 'real', '10.2.0.1');
    expect((await limiter.check({ clientId: 'real', address: '10.2.0.1' }))?.limit).toBe('address');
  });

  it('forgets a trusted pair after a day', async () => {
    const limiter = new FailureLimiter(LIMITS);
    limiter.success({ clientId: 'real', address: '10.2.0.1' });
    jest.advanceTimersByTime(24 * 3600 * 1000 + 1);
    expect(limiter.isTrusted({ clientId: 'real', address: '10.2.0.1' })).toBe(false);
  });

  it('remembers at most 10,000 trusted pairs, forgetting the least recently confirmed first (README: memory stays bounded)', () => {
    const limiter = new FailureLimiter(LIMITS);
    const pair = (n: number) => ({ clientId: `client${n}`, address: '10.3.0.1' });
    for (let n = 0; n < 10_000; n++) limiter.success(pair(n));
    // A new success moves a pair to the back of the queue.
    limiter.success(pair(0));
    limiter.success(pair(10_000));
    expect(limiter.isTrusted(pair(1))).toBe(false);
    expect(limiter.isTrusted(pair(0))).toBe(true);
    expect(limiter.isTrusted(pair(2))).toBe(true);
    expect(limiter.isTrusted(pair(10_000))).toBe(true);
    limiter.success(pair(10_001));
    expect(limiter.isTrusted(pair(2))).toBe(false);
    expect(limiter.isTrusted(pair(3))).toBe(true);
  });

  it('turns a counter off with a limit of 0', async () => {
    const limiter = new FailureLimiter({ ...LIMITS, addressFailureLimit: 0, clientFailureLimit: 0 });
    await fail(limiter, 50, 'x', '10.0.0.1');
    expect(await limiter.check({ clientId: 'x', address: '10.0.0.1' })).toBeUndefined();
  });
});

describe('auth limiter charges (issue 10.9, 10.10)', () => {
  it('charges an attempt before its comparison: 40 at once against a limit of 3 let 3 through', () => {
    const limiter = new FailureLimiter(LIMITS, () => Date.now());
    const outcomes = Array.from({ length: 40 }, (_, i) => limiter.charge({ clientId: 'victim', address: `10.0.1.${i}` }));
    expect(outcomes.filter((o) => !('limit' in o))).toHaveLength(3);
    // Used up only by attempts still in flight: retry in a second, not after the window.
    expect(outcomes[3]).toEqual({ limit: 'client', retryAfterSeconds: 1 });
  });

  it('gives a charge back on success and keeps it on failure', () => {
    const limiter = new FailureLimiter({ ...LIMITS, clientFailureLimit: 0 }, () => Date.now());
    for (let i = 0; i < 10; i++) {
      const charge = limiter.charge({ clientId: 'real', address: '10.0.0.2' });
      if ('limit' in charge) throw new Error('refused');
      charge.refund();
    }
    expect(limiter.check({ clientId: 'real', address: '10.0.0.2' })).toBeUndefined();
    for (let i = 0; i < 5; i++) {
      const charge = limiter.charge({ clientId: 'x', address: '10.0.0.2' });
      if ('limit' in charge) throw new Error('refused');
      charge.failed();
    }
    expect(limiter.check({ clientId: 'real', address: '10.0.0.2' })).toEqual({ limit: 'address', retryAfterSeconds: 60 });
  });

  it('bounds each counter by memory: past its key limit the least recently charged keys are forgotten', () => {
    const limiter = new FailureLimiter(LIMITS, () => Date.now(), 4);
    for (let i = 0; i < 100; i++) limiter.failure({ clientId: `id-${i}`, address: `10.3.0.${i}` });
    expect(limiter.keys).toEqual({ address: 4, client: 4 });
    expect(MAX_COUNTED_KEYS).toBeGreaterThan(0);
  });

  it('runs its windows on the injected clock', () => {
    const clock = fakeClock();
    const limiter = new FailureLimiter(LIMITS, clock.now);
    for (let i = 0; i < 5; i++) limiter.failure({ clientId: undefined, address: '10.0.0.9' });
    expect(limiter.check({ clientId: undefined, address: '10.0.0.9' })).toEqual({ limit: 'address', retryAfterSeconds: 60 });
    clock.advance(60_000);
    expect(limiter.check({ clientId: undefined, address: '10.0.0.9' })).toBeUndefined();
  });
});
