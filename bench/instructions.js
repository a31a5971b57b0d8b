// `npm run bench:instructions`: the guard cases (`--group=token`: the token endpoint's, with the signatures alone) by instructions per response under callgrind, a count that other processes on a shared machine do not move, as ratios to their bare Express route.
'use strict';
const { execFile, spawn, spawnSync } = require('node:child_process');
const { mkdtempSync, readdirSync, readFileSync, rmSync } = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { promisify } = require('node:util');
const { HAS_TASKSET, nextMessage } = require('./processes');
const { ISSUER, prepareGuardFixture } = require('./guard-fixture');
const { prepareTokenFixture, tokenRequest } = require('./token-fixture');

const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;

const GET_ITEMS = (made) => ({ method: 'GET', path: '/api/items', headers: { authorization: `Bearer ${made.guard.token}` }, expect: 200 });
const guardCase = (server) => ({ server, fixture: 'guard', request: GET_ITEMS });
const POST_TOKEN = (alg, how, secret) => (made) => ({ method: 'POST', path: '/oauth/token', ...tokenRequest(made[alg].id, secret ?? made[alg].secret, how), expect: 200 });
/**
 * Every case: a server of bench/server.js (its database, options and the request its load sends), or
 * `signing`: signatures alone, signed as ours signs them (bench/signing.js, on the thread pool), no HTTP.
 */
const CASE = {
  bare: guardCase('bare'),
  'bare-auth': guardCase('bare-auth'),
  'bare-auth-read-lib': guardCase('bare-auth-read-lib'),
  'ours-guard': guardCase('ours-guard'),
  'ours-guard-after-token-router': guardCase('ours-guard-after-token-router'),
  'ours-remote-guard': guardCase('ours-remote-guard'),
  // The token group's baseline: the same form (the longer, body-credential one) parsed, a small JSON answer.
  'bare-post': { server: 'bare-post', fixture: 'RS256', request: POST_TOKEN('RS256', 'body') },
  'signing-rs256': { signing: 'RS256' },
  'signing-es256': { signing: 'ES256' },
  'bare-post-signed-rs256': { server: 'bare-post-signed', fixture: 'RS256', request: POST_TOKEN('RS256', 'body') },
  'bare-post-signed-es256': { server: 'bare-post-signed', fixture: 'ES256', options: { signingAlgorithm: 'ES256' }, request: POST_TOKEN('ES256', 'body') },
  'ours-token-rs256': { server: 'ours-token', fixture: 'RS256', request: POST_TOKEN('RS256', 'basic') },
  'ours-token-es256': { server: 'ours-token', fixture: 'ES256', options: { signingAlgorithm: 'ES256' }, request: POST_TOKEN('ES256', 'basic') },
  // Issue 16.4: a wrong secret from an address whose failure limit the server used up before it
  // reported ready; no refusal delay (this counts the refusal's work), and a window that outlasts the run.
  'ours-refused': {
    server: 'ours-token',
    fixture: 'RS256',
    options: { refusalDelay: 0, addressFailureWindow: 86_400 },
    exhaust: ['127.0.0.1'],
    request: (made) => ({ ...POST_TOKEN('RS256', 'basic', 'not-the-secret')(made), expect: 429 }),
  },
};

/**
 * The two groups. A token request costs some ten times a guarded GET, so the token group counts one
 * collection cycle after a shorter warm-up (the window still holds whole cycles).
 */
const GROUPS = {
  guard: {
    cases: 'bare,bare-auth,bare-auth-read-lib,ours-guard,ours-guard-after-token-router,ours-remote-guard',
    baseline: 'bare',
    cycles: '3',
    warmup: '6000',
    targets: [
      { name: 'ours-guard', target: 'in-process guard ≥ 0.95× bare Express GET', goal: 0.95 },
      { name: 'ours-remote-guard', target: 'remote guard (JWKS) ≥ 0.9× bare Express GET', goal: 0.9 },
      { name: 'ours-guard-after-token-router', target: 'guard after tokenRouter() at the root ≥ 0.9× bare Express GET', goal: 0.9 },
    ],
  },
  token: {
    cases: 'bare-post,signing-rs256,bare-post-signed-rs256,ours-token-rs256,signing-es256,bare-post-signed-es256,ours-token-es256,ours-refused',
    baseline: 'bare-post',
    cycles: '1',
    warmup: '1500',
    targets: [
      { name: 'ours-token-rs256', per: 'signing-rs256', target: 'token endpoint, RS256 ≥ 0.8× the bare signing rate', goal: 0.8 },
      { name: 'ours-token-rs256', per: 'bare-post-signed-rs256', target: 'bound: token endpoint, RS256 ÷ a bare Express POST that signs the same JWT (its ceiling)' },
      { name: 'ours-token-es256', target: 'token endpoint, ES256 ≥ 0.45× bare Express POST', goal: 0.45 },
      { name: 'ours-token-es256', per: 'bare-post-signed-es256', target: 'bound: token endpoint, ES256 ÷ a bare Express POST that signs the same JWT (its ceiling)' },
      { name: 'ours-refused', per: 'ours-token-rs256', target: 'a refusal by the address limit ≤ 1/5 of an RS256 grant', goal: 5 },
      { name: 'ours-refused', per: 'ours-token-es256', target: 'a refusal by the address limit ≤ 1/5 of an ES256 grant', goal: 5 },
    ],
  },
};
const GROUP = GROUPS[arg('group', 'guard')];
if (!GROUP) throw new Error(`--group must be one of ${Object.keys(GROUPS).join(', ')}`);
const CASES = arg('cases', GROUP.cases).split(',');
for (const name of CASES) if (!CASE[name]) throw new Error(`no case ${name} (cases: ${Object.keys(CASE).join(', ')})`);
/**
 * The counted window runs from just after one mark-compact to just after the CYCLES-th next one
 * (`--trace-gc` tells when), so every case counts whole cycles of its old generation: the maps
 * Express 5 builds for each request fill it, a mark-compact comes every 3,000-4,000 requests and
 * costs some 75 million instructions, and a window of a fixed number of requests would hold one
 * more or one fewer of them by chance (about 1 % of the count over 15,000 requests).
 */
const CYCLES = Number(arg('cycles', GROUP.cycles));
if (!Number.isInteger(CYCLES) || CYCLES < 1) throw new Error('--cycles must be a whole number of at least 1');
const WARMUP = Number(arg('warmup', GROUP.warmup));
/**
 * The warm-up also lasts until the JIT has gone quiet (at most QUIET_COMPILATIONS optimizing
 * compilations started over the last QUIET responses): V8 compiles on other threads, which callgrind
 * counts, and a token request has much more code to compile than a bare route, so a window opened
 * while it still compiles charges the case with its warm-up (about 160,000 instructions a response of
 * an ES256 grant, seen in a profile). A few compilations go on for as long as a server runs
 * (one every few hundred RS256 requests), so the rule allows them; each run reports its window's.
 */
const QUIET = Number(arg('quiet', '1000'));
const QUIET_COMPILATIONS = Number(arg('quiet-compilations', '2'));
/** Signatures counted in a signing case. */
const SIGNATURES = Number(arg('signatures', '400'));
/**
 * Seconds of the idle window that measures what the process does with no requests (timers: the change
 * watcher's polls), after SETTLE seconds for the work the load left behind (compilation, concurrent
 * marking) to finish. Timers fire by the clock, and under callgrind each request takes some 50 times
 * longer, so the counted window holds some 50 times the timer work a real one would: that much is
 * taken off, at the idle rate.
 */
const IDLE = Number(arg('idle', '20'));
const SETTLE = Number(arg('settle', '10'));
/**
 * V8 draws a hash seed at random in each process (it orders the descriptors of hidden classes, which
 * Express 5 builds for every request). Each case runs in a fresh process once per seed given here,
 * the same seeds for every case, and the counts are averaged; the range over the seeds shows how far
 * one process's count strays from another's.
 */
const SEEDS = arg('hash-seeds', '1,2,3').split(',').map(Number);
const CONNECTIONS = 8;
/** Every case stops by this many minutes (valgrind runs Node some 40-60 times slower). */
const DEADLINE_MINUTES = Number(arg('deadline', '30'));
const run = promisify(execFile);
/**
 * By hand, for a profile: `--keep` leaves the callgrind files (the dumps of the counted windows) in
 * the temporary directory it names, and `--node-flags=a,b` passes flags to the servers' Node (e.g.
 * `--perf-basic-prof`, whose /tmp/perf-<pid>.map names the JIT code in them).
 */
const KEEP = process.argv.includes('--keep');
const NODE_FLAGS = arg('node-flags', '').split(',').filter(Boolean);

/**
 * The case's request (`spec`: method, path, headers, body, expected status) over keep-alive
 * connections until stopped; `responses` counts the answers, and `failed` rejects on another status,
 * an error or the deadline.
 */
function startLoad(port, spec, deadline) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const state = { responses: 0, stopped: false };
  let fail;
  state.failed = new Promise((_resolve, reject) => {
    fail = (err) => {
      if (state.stopped) return;
      state.stopped = true;
      agent.destroy();
      reject(err);
    };
  });
  state.failed.catch(() => {});
  const headers = spec.body === undefined ? spec.headers : { ...spec.headers, 'content-length': Buffer.byteLength(spec.body) };
  const next = () => {
    if (state.stopped) return;
    if (Date.now() > deadline) return fail(new Error(`not done by the ${DEADLINE_MINUTES}-minute deadline`));
    const req = http.request({ host: '127.0.0.1', port, method: spec.method, path: spec.path, agent, headers }, (res) => {
      if (res.statusCode !== spec.expect) return fail(new Error(`status ${res.statusCode}`));
      res.resume();
      res.on('end', () => {
        state.responses++;
        next();
      });
    });
    req.on('error', (err) => fail(err));
    req.end(spec.body);
  };
  state.stop = () => {
    state.stopped = true;
    agent.destroy();
  };
  for (let i = 0; i < CONNECTIONS; i++) next();
  return state;
}

/** Resolves when `test()` holds, checked every 20 ms; rejects with the load when it fails first. */
function until(test, load) {
  return Promise.race([
    load.failed,
    new Promise((resolve) => {
      const check = () => (test() ? resolve() : setTimeout(check, 20));
      check();
    }),
  ]);
}

/**
 * V8's compilers, each entry point counted with everything it calls: a TurboFan job on a worker
 * thread and its installation on the main thread, lazy bytecode compilation, OSR, Sparkplug.
 */
const COMPILING = /^\s*([\d,]+) .*\?\?\?:v8::internal::(?:OptimizingCompileDispatcher::CompileTask::RunInternal|OptimizingCompileDispatcher::InstallOptimizedFunctions|Runtime_CompileLazy|Runtime_CompileOptimizedOSR|Runtime_CompileBaseline|Runtime_CompileTurbofan_Synchronous|baseline::BaselineBatchCompiler::CompileBatch)\(/;

/**
 * Asks callgrind to dump its counters; returns the total instructions of the dump it wrote, and how
 * many of them V8 spent compiling (callgrind_annotate's inclusive counts of COMPILING).
 */
async function dumpTotal(pid, outFile) {
  const before = new Set(readdirSync(path.dirname(outFile)));
  await run('callgrind_control', ['--dump', String(pid)]);
  const written = readdirSync(path.dirname(outFile)).filter((f) => f.startsWith(`${path.basename(outFile)}.`) && !before.has(f));
  if (written.length !== 1) throw new Error(`callgrind wrote ${written.length} dumps, expected 1`);
  const file = path.join(path.dirname(outFile), written[0]);
  const total = /^(?:summary|totals): (\d+)/m.exec(readFileSync(file, 'utf8'));
  if (!total) throw new Error(`no total in ${written[0]}`);
  const { stdout } = await run('callgrind_annotate', ['--inclusive=yes', '--threshold=100', file], { maxBuffer: 256 * 1024 * 1024 });
  let compiling = 0;
  for (const line of stdout.split('\n')) {
    const m = COMPILING.exec(line);
    if (m) compiling += Number(m[1].replaceAll(',', ''));
  }
  return { total: Number(total[1]), compiling };
}

/** Counts the mark-compacts (`--trace-gc`) and the optimizing compilations (`--trace-opt`) a server's output reports. */
function watchTrace(stream) {
  const seen = { markCompacts: 0, compilations: 0 };
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    for (const line of lines) {
      if (/ ms: Mark-Compact /.test(line)) seen.markCompacts++;
      else if (line.startsWith('[compiling method ')) seen.compilations++;
    }
  });
  return seen;
}

/**
 * Whether the JIT has gone quiet: at most QUIET_COMPILATIONS optimizing compilations started over the
 * last QUIET responses. Call it at each check; it keeps what it saw over the last QUIET responses.
 */
function jitQuiet(trace, load) {
  const seen = [];
  return () => {
    seen.push({ responses: load.responses, compilations: trace.compilations });
    // Keep the newest sample at least QUIET responses old, and everything after it.
    while (seen.length > 1 && load.responses - seen[1].responses >= QUIET) seen.shift();
    const oldest = seen[0];
    return load.responses - oldest.responses >= QUIET && trace.compilations - oldest.compilations <= QUIET_COMPILATIONS;
  };
}

/** Node with `args` under callgrind (pinned to `cpu` when possible), with stdout piped and an IPC channel. */
function underCallgrind(outFile, cpu, args, env) {
  const valgrind = ['valgrind', '--tool=callgrind', `--callgrind-out-file=${outFile}`, `--log-file=${outFile}.log`, '--dump-instr=no', process.execPath, ...args];
  const [cmd, argv] = HAS_TASKSET ? ['taskset', ['-c', String(cpu), ...valgrind]] : [valgrind[0], valgrind.slice(1)];
  return spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env: { ...process.env, ...env } });
}

/** Runs `fn(proc)` on a process that is killed when it returns, or by the deadline. */
async function withDeadline(proc, fn) {
  const timer = setTimeout(() => proc.kill('SIGKILL'), DEADLINE_MINUTES * 60_000 + 60_000);
  try {
    return await fn(Date.now() + DEADLINE_MINUTES * 60_000);
  } finally {
    clearTimeout(timer);
    proc.kill('SIGKILL');
  }
}

let measured = 0;

/**
 * One case's server under callgrind: warm-up, then CYCLES whole mark-compact cycles counted, then an
 * idle window after a pause; counters zeroed before each count.
 */
async function measureServer(name, c, seed, cpu, made, dir) {
  const outFile = path.join(dir, `${name}-${seed}-${++measured}.callgrind`);
  const fixture = made[c.fixture];
  const config = {
    server: c.server,
    issuer: ISSUER,
    database: fixture.database,
    clientId: fixture.clientId ?? fixture.id,
    fetchTimeout: 120_000,
    ...(c.options ? { options: c.options } : {}),
    ...(c.exhaust ? { exhaust: c.exhaust } : {}),
  };
  const proc = underCallgrind(outFile, cpu, [...NODE_FLAGS, `--hash-seed=${seed}`, '--trace-gc', '--trace-opt', path.join(__dirname, 'server.js')], { BENCH_CONFIG: JSON.stringify(config) });
  const trace = watchTrace(proc.stdout);
  let load;
  try {
    return await withDeadline(proc, async (deadline) => {
      const { port, token } = await nextMessage(proc, 'ready');
      const spec = c.request(made);
      // The remote guard's server mints its own token (its issuer is its own URL).
      if (token !== undefined) spec.headers = { ...spec.headers, authorization: `Bearer ${token}` };
      load = startLoad(port, spec, deadline);
      const quiet = jitQuiet(trace, load);
      // A warm-up that does not end says why, once a minute.
      const progress = setInterval(() => console.log(`  ${name}, hash seed ${seed}: warming up, ${load.responses} responses, ${trace.compilations} optimizing compilations so far`), 60_000);
      try {
        await until(() => quiet() && load.responses >= WARMUP, load);
      } finally {
        clearInterval(progress);
      }
      const before = trace.markCompacts;
      await until(() => trace.markCompacts > before, load);
      await run('callgrind_control', ['--zero', String(proc.pid)]);
      const first = { responses: load.responses, at: Date.now(), markCompacts: trace.markCompacts, compilations: trace.compilations };
      await until(() => trace.markCompacts >= first.markCompacts + CYCLES, load);
      const { total, compiling } = await dumpTotal(proc.pid, outFile);
      const compilations = trace.compilations - first.compilations;
      const responses = load.responses - first.responses;
      const seconds = (Date.now() - first.at) / 1000;
      load.stop();
      await new Promise((resolve) => setTimeout(resolve, SETTLE * 1000));
      await run('callgrind_control', ['--zero', String(proc.pid)]);
      await new Promise((resolve) => setTimeout(resolve, IDLE * 1000));
      const idle = await dumpTotal(proc.pid, outFile);
      const idlePerSecond = (idle.total - idle.compiling) / IDLE;
      return {
        name,
        seed,
        responses,
        compilations,
        perResponse: total / responses,
        compilingPerResponse: compiling / responses,
        idlePerSecond,
        net: (total - compiling - idlePerSecond * seconds) / responses,
      };
    });
  } finally {
    load?.stop();
  }
}

/**
 * Signatures alone under callgrind (bench/signing.js --counted, on the thread pool as ours signs):
 * SIGNATURES counted after a warm-up. No timers run in that process, so nothing idle is taken off.
 */
async function measureSigning(name, c, seed, cpu, dir) {
  const outFile = path.join(dir, `${name}-${seed}-${++measured}.callgrind`);
  const proc = underCallgrind(outFile, cpu, [`--hash-seed=${seed}`, path.join(__dirname, 'signing.js'), '--child', c.signing, 'pool', '--counted'], {});
  proc.stdout.resume();
  return withDeadline(proc, async () => {
    await nextMessage(proc, 'ready');
    await run('callgrind_control', ['--zero', String(proc.pid)]);
    const signed = nextMessage(proc, 'signed');
    proc.send({ type: 'sign', count: SIGNATURES });
    await signed;
    const { total, compiling } = await dumpTotal(proc.pid, outFile);
    return { name, seed, responses: SIGNATURES, compilations: 0, perResponse: total / SIGNATURES, compilingPerResponse: compiling / SIGNATURES, idlePerSecond: 0, net: (total - compiling) / SIGNATURES };
  });
}

/** The fixtures the chosen cases need: the guard's client and token, the token cases' clients. */
async function prepare(dir) {
  const made = {};
  const needs = new Set(CASES.map((name) => CASE[name].fixture));
  if (needs.has('guard')) made.guard = await prepareGuardFixture(dir);
  if (needs.has('RS256') || needs.has('ES256')) Object.assign(made, await prepareTokenFixture(dir));
  return made;
}

async function main() {
  if (spawnSync('valgrind', ['--version']).status !== 0 || spawnSync('callgrind_control', ['--version']).status !== 0) {
    throw new Error('valgrind (with callgrind_control) is not installed: this bench needs it');
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ecc-instructions-'));
  try {
    const made = await prepare(dir);
    console.log(
      `${CASES.length} cases under callgrind, two at a time, each with hash seeds ${SEEDS.join(', ')}: at least ${WARMUP} warm-up requests and until ${QUIET} in a row started at most ${QUIET_COMPILATIONS} optimizing compilations, ${CYCLES} mark-compact cycles counted (${CONNECTIONS} keep-alive connections), then ${IDLE} s idle after ${SETTLE} s`,
    );
    const runs = [];
    const failed = [];
    const queue = SEEDS.flatMap((seed) => CASES.map((name) => ({ name, seed })));
    // One case per core: the counts do not depend on it, the wall time does.
    await Promise.all(
      [0, 1].map(async (cpu) => {
        for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
          try {
            const c = CASE[next.name];
            const r = c.signing ? await measureSigning(next.name, c, next.seed, cpu, dir) : await measureServer(next.name, c, next.seed, cpu, made, dir);
            console.log(
              `${r.name}, hash seed ${r.seed}: ${Math.round(r.perResponse)} instructions per response over ${r.responses}, ${Math.round(r.compilingPerResponse)} of them compiling (${r.compilations} optimizing compilations started), ${Math.round(r.idlePerSecond)} per idle second, net ${Math.round(r.net)}`,
            );
            runs.push(r);
          } catch (err) {
            // One failed run leaves the case out of the table, not the others.
            console.log(`${next.name}, hash seed ${next.seed}: FAILED (${err.message})`);
            failed.push(next);
          }
        }
      }),
    );
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const results = CASES.filter((name) => !failed.some((f) => f.name === name)).map((name) => {
      const mine = runs.filter((r) => r.name === name);
      return {
        name,
        perResponse: mean(mine.map((r) => r.perResponse)),
        compilingPerResponse: mean(mine.map((r) => r.compilingPerResponse)),
        idlePerSecond: mean(mine.map((r) => r.idlePerSecond)),
        net: mean(mine.map((r) => r.net)),
        nets: mine.map((r) => r.net),
      };
    });
    const byName = (name) => results.find((r) => r.name === name);
    const base = byName(GROUP.baseline);
    console.log(
      `\n| case | instructions per response (a signing case: per signature; mean of ${SEEDS.length} hash seeds) | of them compiling | idle instructions per s | net: less compiling and the idle rate over the counted window | its range over the seeds | × ${GROUP.baseline} (net) |`,
    );
    console.log('|---|--:|--:|--:|--:|--:|--:|');
    for (const r of results) {
      const ratio = base ? `${(base.net / r.net).toFixed(3)}×` : '';
      const range = `${Math.round(Math.min(...r.nets))}-${Math.round(Math.max(...r.nets))}`;
      console.log(`| ${r.name} | ${Math.round(r.perResponse)} | ${Math.round(r.compilingPerResponse)} | ${Math.round(r.idlePerSecond)} | ${Math.round(r.net)} | ${range} | ${ratio} |`);
    }
    // A target divides its case by the group's baseline, or by `per` (the signatures alone, a grant).
    const rows = GROUP.targets.filter((t) => byName(t.name) && byName(t.per ?? GROUP.baseline));
    if (rows.length > 0) {
      console.log('\n| target, counted in instructions (the issue measures CPU time; see bench/README.md) | reached | met |');
      console.log('|---|--:|:-:|');
      for (const t of rows) {
        const value = byName(t.per ?? GROUP.baseline).net / byName(t.name).net;
        const met = t.goal === undefined ? 'bound' : value >= t.goal ? 'yes' : '**no**';
        console.log(`| ${t.target} | ${value.toFixed(3)}× | ${met} |`);
      }
    }
    if (failed.length > 0) {
      console.log(`\nnot counted (a run failed): ${[...new Set(failed.map((f) => f.name))].join(', ')}`);
      process.exitCode = 1;
    }
  } finally {
    if (KEEP) console.log(`\ncallgrind files kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
