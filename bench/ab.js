// `npm run bench:ab`: cases whose differences are a few µs, measured in alternating rounds (each round's servers started afresh with one V8 hash seed), as paired ratios to the bare route of the same round; with the guard cases, issue 16.3's targets and their floors.
'use strict';
const { mkdtempSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { child, nextMessage } = require('./processes');
const { ISSUER, prepareGuardFixture } = require('./guard-fixture');

const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
/** Cases as bench/server.js names them; `name@dir` serves the build in dir (BENCH_DIST) instead of dist/. */
const CASES = arg('cases', 'bare,bare-noop,bare-auth,bare-auth-read,ours-guard,ours-guard-after-token-router,ours-remote-guard').split(',');
const BASELINE = arg('baseline', 'bare');
const ROUNDS = Number(arg('rounds', '9'));
const TIMING = { warmup: Number(arg('warmup', '2')), duration: Number(arg('duration', '3')), connections: 50 };
/**
 * `--together`: every case in one server process, each on its own port, so the baseline is a plain
 * route of the same service (the library loaded, its heap and timers shared) and only the route's
 * own middleware differs; without it each case has a process of its own and the baseline is an app
 * with nothing but Express.
 */
const TOGETHER = process.argv.includes('--together');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Starts every case's server on CPU 0, each with its own port, all with V8 hash seed `seed`; the
 * remote guard mints its own token. A process keeps what it drew at start (V8's hash seed, where its
 * code and heap landed) for its life, so a server kept for the whole run would carry its draws into
 * every round: each round starts its servers afresh, all with one seed, the round's number.
 */
async function startAll(made, seed) {
  const nodeArgs = [`--hash-seed=${seed}`];
  if (TOGETHER) {
    if (CASES.some((name) => name.includes('@'))) throw new Error('--together serves one build: no name@dir cases');
    const proc = child('server.js', 0, { BENCH_CONFIG: JSON.stringify({ servers: CASES, issuer: ISSUER, database: made.database, clientId: made.clientId }) }, nodeArgs);
    const { servers } = await nextMessage(proc, 'ready');
    return servers.map(({ name, port, token }) => ({ name, proc, url: `http://127.0.0.1:${port}`, token: token ?? made.token }));
  }
  const servers = [];
  for (const name of CASES) {
    const [server, dist] = name.split('@');
    const proc = child(
      'server.js',
      0,
      {
        BENCH_CONFIG: JSON.stringify({ server, issuer: ISSUER, database: made.database, clientId: made.clientId }),
        ...(dist ? { BENCH_DIST: path.resolve(dist) } : {}),
      },
      nodeArgs,
    );
    const { port, token } = await nextMessage(proc, 'ready');
    servers.push({ name, proc, url: `http://127.0.0.1:${port}`, token: token ?? made.token });
  }
  return servers;
}

/** Stops the servers' processes and waits until they are gone. */
async function stopAll(servers) {
  const running = [...new Set(servers.map((s) => s.proc))].filter((proc) => proc.exitCode === null);
  await Promise.all(
    running.map(
      (proc) =>
        new Promise((resolve) => {
          proc.once('exit', resolve);
          proc.send('stop');
        }),
    ),
  );
}

/** One measured window against one server: CPU µs per response, from the server. */
async function round(s) {
  const spec = { method: 'GET', path: '/api/items', headers: { authorization: `Bearer ${s.token}` } };
  const load = child('load.js', 1, {});
  const warmed = nextMessage(load, 'warmed');
  const result = nextMessage(load, 'result');
  load.send({ url: s.url, spec, expect: 200, ...TIMING });
  await warmed;
  const drained = nextMessage(s.proc, 'drained');
  s.proc.send('drain');
  await drained;
  s.proc.send('measure');
  load.send('go');
  const { result: r } = await result;
  s.proc.send('stats');
  const stats = await nextMessage(s.proc, 'stats');
  const unexpected = Object.keys(r.statuses).filter((code) => Number(code) !== 200);
  if (unexpected.length > 0 || r.errors > 0 || r.total === 0) throw new Error(`${s.name}: statuses ${JSON.stringify(r.statuses)}, errors ${r.errors}`);
  return stats.cpuUsPerRequest;
}

/**
 * Issue 16.3's targets, by the median of the rounds' paired ratios (CPU per response), and the floors
 * beside them; a case not measured is left out. The last cell is what bench/all.js collects.
 */
const TARGETS = [
  { name: 'ours-guard', target: 'guarded route, in-process guard, one token (cached) ≥ 0.95× bare Express GET', goal: 0.95 },
  { name: 'ours-remote-guard', target: 'guarded route, remote guard (JWKS), one token (cached) ≥ 0.9× bare Express GET', goal: 0.9 },
  { name: 'ours-guard-after-token-router', target: 'guarded route after tokenRouter() at the root, one token (cached) ≥ 0.9× bare Express GET', goal: 0.9 },
  { name: 'bare-noop', target: 'bound: a route middleware that only calls next() ÷ bare Express GET' },
  { name: 'bare-auth', target: 'bound: a route middleware that only sets req.auth ÷ bare Express GET' },
  { name: 'bare-auth-read', target: 'bound: one that reads the Authorization header and the URI, then sets req.auth (verifies nothing) ÷ bare Express GET' },
];

function printTargets(servers, ratioOf) {
  const rows = TARGETS.filter((t) => servers.some((s) => s.name === t.name));
  if (BASELINE !== 'bare' || rows.length === 0) return;
  const baseline = TOGETHER ? 'a plain route of the same process' : 'its own bare GET';
  console.log(`\n| target (alternating rounds, each round's ratio to ${baseline}; median of ${ROUNDS}) | reached (CPU per response) | met |`);
  console.log('|---|--:|:-:|');
  for (const t of rows) {
    const value = ratioOf(servers.find((s) => s.name === t.name));
    const met = t.goal === undefined ? 'bound' : value >= t.goal ? 'yes' : '**no**';
    console.log(`| ${t.target} | ${value.toFixed(3)}× | ${met} |`);
  }
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ecc-ab-'));
  let servers = [];
  try {
    const made = await prepareGuardFixture(dir);
    if (!CASES.includes(BASELINE)) throw new Error(`the baseline ${BASELINE} is not among --cases`);
    const cpu = new Map(CASES.map((name) => [name, []]));
    const where = TOGETHER ? 'all in one server process' : 'each in its own server process';
    console.log(
      `${ROUNDS} rounds of ${CASES.length} cases, ${where}, started afresh each round with V8 hash seed = the round's number (warm-up ${TIMING.warmup} s, ${TIMING.duration} s measured each, order rotating), load average ${os.loadavg()[0].toFixed(2)}`,
    );
    for (let i = 0; i < ROUNDS; i++) {
      servers = await startAll(made, i + 1);
      // The order rotates, so no case always follows the same one.
      const order = servers.map((_, k) => servers[(k + i) % servers.length]);
      for (const s of order) cpu.get(s.name).push(await round(s));
      await stopAll(servers);
      console.log(`round ${i + 1}: ${CASES.map((name) => `${name} ${cpu.get(name).at(-1)}`).join(', ')}`);
    }
    servers = CASES.map((name) => ({ name, cpu: cpu.get(name) }));
    const base = servers.find((s) => s.name === BASELINE);
    console.log(`\nload average at the end ${os.loadavg()[0].toFixed(2)}\n`);
    console.log(`| case | CPU µs per response (median of ${ROUNDS}) | × ${BASELINE} by CPU, median of the rounds' ratios | range of the ratios |`);
    console.log('|---|--:|--:|--:|');
    const ratiosOf = (s) => s.cpu.map((c, k) => base.cpu[k] / c);
    for (const s of servers) {
      const ratios = ratiosOf(s);
      console.log(
        `| ${s.name} | ${median(s.cpu).toFixed(1)} | ${median(ratios).toFixed(3)}× | ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)} |`,
      );
    }
    printTargets(servers, (s) => median(ratiosOf(s)));
  } finally {
    await stopAll(servers.filter((s) => s.proc));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
