// `npm run bench:instructions`: the guard cases by instructions per response under callgrind, a count that other processes on a shared machine do not move, as ratios to the bare GET.
'use strict';
const { execFile, spawn, spawnSync } = require('node:child_process');
const { mkdtempSync, readdirSync, readFileSync, rmSync } = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { promisify } = require('node:util');
const { HAS_TASKSET, nextMessage } = require('./processes');
const { ISSUER, prepareGuardFixture } = require('./guard-fixture');

const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const CASES = arg('cases', 'bare,bare-auth,bare-auth-read-lib,ours-guard,ours-guard-after-token-router,ours-remote-guard').split(',');
/**
 * The counted window runs from just after one mark-compact to just after the CYCLES-th next one
 * (`--trace-gc` tells when), so every case counts whole cycles of its old generation: the maps
 * Express 5 builds for each request fill it, a mark-compact comes every 3,000-4,000 requests and
 * costs some 75 million instructions, and a window of a fixed number of requests would hold one
 * more or one fewer of them by chance (about 1 % of the count over 15,000 requests).
 */
const CYCLES = Number(arg('cycles', '3'));
if (!Number.isInteger(CYCLES) || CYCLES < 1) throw new Error('--cycles must be a whole number of at least 1');
const WARMUP = Number(arg('warmup', '6000'));
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
 * GETs of /api/items over keep-alive connections until stopped; `responses` counts the answers, and
 * `failed` rejects on a status other than 200, an error or the deadline.
 */
function startLoad(port, token, deadline) {
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
  const next = () => {
    if (state.stopped) return;
    if (Date.now() > deadline) return fail(new Error(`not done by the ${DEADLINE_MINUTES}-minute deadline`));
    const req = http.get({ host: '127.0.0.1', port, path: '/api/items', agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) return fail(new Error(`status ${res.statusCode}`));
      res.resume();
      res.on('end', () => {
        state.responses++;
        next();
      });
    });
    req.on('error', (err) => fail(err));
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

/** Asks callgrind to dump its counters and returns the total instructions of the dump it wrote. */
async function dumpTotal(pid, outFile) {
  const before = new Set(readdirSync(path.dirname(outFile)));
  await run('callgrind_control', ['--dump', String(pid)]);
  const written = readdirSync(path.dirname(outFile)).filter((f) => f.startsWith(`${path.basename(outFile)}.`) && !before.has(f));
  if (written.length !== 1) throw new Error(`callgrind wrote ${written.length} dumps, expected 1`);
  const text = readFileSync(path.join(path.dirname(outFile), written[0]), 'utf8');
  const total = /^(?:summary|totals): (\d+)/m.exec(text);
  if (!total) throw new Error(`no total in ${written[0]}`);
  return Number(total[1]);
}

/** Counts the mark-compacts a server's `--trace-gc` output reports. */
function markCompacts(stream) {
  const seen = { count: 0 };
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    for (const line of lines) if (/ ms: Mark-Compact /.test(line)) seen.count++;
  });
  return seen;
}

/**
 * One case's server under callgrind: warm-up, then CYCLES whole mark-compact cycles counted, then an
 * idle window after a pause; counters zeroed before each count.
 */
let measured = 0;

async function measure(name, seed, cpu, made, dir) {
  const outFile = path.join(dir, `${name}-${seed}-${++measured}.callgrind`);
  const node = [process.execPath, `--hash-seed=${seed}`, '--trace-gc', path.join(__dirname, 'server.js')];
  const valgrind = ['valgrind', '--tool=callgrind', `--callgrind-out-file=${outFile}`, `--log-file=${outFile}.log`, '--dump-instr=no', ...node];
  const [cmd, argv] = HAS_TASKSET ? ['taskset', ['-c', String(cpu), ...valgrind]] : [valgrind[0], valgrind.slice(1)];
  const proc = spawn(cmd, argv, {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_CONFIG: JSON.stringify({ server: name, issuer: ISSUER, database: made.database, clientId: made.clientId, fetchTimeout: 120_000 }) },
  });
  const gc = markCompacts(proc.stdout);
  const deadline = Date.now() + DEADLINE_MINUTES * 60_000;
  const timer = setTimeout(() => proc.kill('SIGKILL'), DEADLINE_MINUTES * 60_000 + 60_000);
  let load;
  try {
    const { port, token } = await nextMessage(proc, 'ready');
    load = startLoad(port, token ?? made.token, deadline);
    await until(() => load.responses >= WARMUP, load);
    const before = gc.count;
    await until(() => gc.count > before, load);
    await run('callgrind_control', ['--zero', String(proc.pid)]);
    const first = { responses: load.responses, at: Date.now(), gc: gc.count };
    await until(() => gc.count >= first.gc + CYCLES, load);
    const total = await dumpTotal(proc.pid, outFile);
    const responses = load.responses - first.responses;
    const seconds = (Date.now() - first.at) / 1000;
    load.stop();
    await new Promise((resolve) => setTimeout(resolve, SETTLE * 1000));
    await run('callgrind_control', ['--zero', String(proc.pid)]);
    await new Promise((resolve) => setTimeout(resolve, IDLE * 1000));
    const idlePerSecond = (await dumpTotal(proc.pid, outFile)) / IDLE;
    return { name, seed, responses, perResponse: total / responses, idlePerSecond, net: (total - idlePerSecond * seconds) / responses };
  } finally {
    load?.stop();
    clearTimeout(timer);
    proc.kill('SIGKILL');
  }
}

const TARGETS = [
  { name: 'ours-guard', target: 'in-process guard ≥ 0.95× bare Express GET', goal: 0.95 },
  { name: 'ours-remote-guard', target: 'remote guard (JWKS) ≥ 0.9× bare Express GET', goal: 0.9 },
  { name: 'ours-guard-after-token-router', target: 'guard after tokenRouter() at the root ≥ 0.9× bare Express GET', goal: 0.9 },
];

async function main() {
  if (spawnSync('valgrind', ['--version']).status !== 0 || spawnSync('callgrind_control', ['--version']).status !== 0) {
    throw new Error('valgrind (with callgrind_control) is not installed: this bench needs it');
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ecc-instructions-'));
  try {
    const made = await prepareGuardFixture(dir);
    console.log(
      `${CASES.length} cases under callgrind, two at a time, each with hash seeds ${SEEDS.join(', ')}: ${WARMUP} warm-up requests, ${CYCLES} mark-compact cycles counted (${CONNECTIONS} keep-alive connections), then ${IDLE} s idle after ${SETTLE} s`,
    );
    const runs = [];
    const failed = [];
    const queue = SEEDS.flatMap((seed) => CASES.map((name) => ({ name, seed })));
    // One case per core: the counts do not depend on it, the wall time does.
    await Promise.all(
      [0, 1].map(async (cpu) => {
        for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
          try {
            const r = await measure(next.name, next.seed, cpu, made, dir);
            console.log(`${r.name}, hash seed ${r.seed}: ${Math.round(r.perResponse)} instructions per response over ${r.responses}, ${Math.round(r.idlePerSecond)} per idle second`);
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
      return { name, perResponse: mean(mine.map((r) => r.perResponse)), idlePerSecond: mean(mine.map((r) => r.idlePerSecond)), net: mean(mine.map((r) => r.net)), nets: mine.map((r) => r.net) };
    });
    const base = results.find((r) => r.name === 'bare');
    console.log(`\n| case | instructions per response (mean of ${SEEDS.length} hash seeds) | idle instructions per s | per response, less the idle rate over the counted window | its range over the seeds | × bare (net) |`);
    console.log('|---|--:|--:|--:|--:|--:|');
    for (const r of results) {
      const ratio = base ? `${(base.net / r.net).toFixed(3)}×` : '';
      const range = `${Math.round(Math.min(...r.nets))}-${Math.round(Math.max(...r.nets))}`;
      console.log(`| ${r.name} | ${Math.round(r.perResponse)} | ${Math.round(r.idlePerSecond)} | ${Math.round(r.net)} | ${range} | ${ratio} |`);
    }
    const rows = TARGETS.filter((t) => results.some((r) => r.name === t.name));
    if (base && rows.length > 0) {
      console.log('\n| target, counted in instructions (the issue measures CPU time; see bench/README.md) | reached | met |');
      console.log('|---|--:|:-:|');
      for (const t of rows) {
        const value = base.net / results.find((r) => r.name === t.name).net;
        console.log(`| ${t.target} | ${value.toFixed(3)}× | ${value >= t.goal ? 'yes' : '**no**'} |`);
      }
    }
    if (failed.length > 0) {
      console.log(`\nnot counted (a run failed): ${[...new Set(failed.map((f) => f.name))].join(', ')}`);
      process.exitCode = 1;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
