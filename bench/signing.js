// `node bench/signing.js`: the bare signing rate of RS256 and ES256, on the main thread and on libuv's thread pool, pinned to one core and to two (issue 16.2: where the token endpoint's limit lies, and which way to sign).
'use strict';
const { generateKeyPairSync, sign } = require('node:crypto');
const { spawnSync } = require('node:child_process');
const os = require('node:os');

const SMOKE = process.argv.includes('--smoke');
const MEASURE_MS = SMOKE ? 300 : 3000;
/** Signatures in flight at once on the pool: about what 50 connections keep waiting. */
const IN_FLIGHT = 50;

/** Signs `n` times, on the main thread or with IN_FLIGHT at once on the pool; resolves when all are done. */
function signMany(key, input, mode, n) {
  if (mode === 'main') {
    for (let i = 0; i < n; i++) sign('sha256', input, key);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    let started = 0;
    let done = 0;
    const next = () => {
      if (started === n) return;
      started++;
      sign('sha256', input, key, () => {
        if (++done === n) resolve();
        else next();
      });
    };
    for (let i = 0; i < Math.min(IN_FLIGHT, n); i++) next();
  });
}

/**
 * `--child alg mode --counted` (bench/instructions.js, under callgrind): signs a warm-up, reports
 * `ready` over IPC, then signs the `count` each `sign` message asks for and reports `signed`, so
 * that only signatures fall between the counter's zeroing and its dump.
 */
function countedChild(key, input, mode) {
  process.on('message', (msg) => {
    if (msg.type === 'sign') signMany(key, input, mode, msg.count).then(() => process.send({ type: 'signed' }));
  });
  signMany(key, input, mode, 100).then(() => process.send({ type: 'ready' }));
}

if (process.argv.includes('--child')) {
  const [alg, mode] = process.argv.slice(process.argv.indexOf('--child') + 1);
  const { privateKey } = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = alg === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey;
  const input = Buffer.from(`${Buffer.from('{"alg":"RS256","typ":"at+jwt","kid":"k"}').toString('base64url')}.${'x'.repeat(300)}`);
  if (process.argv.includes('--counted')) return countedChild(key, input, mode);
  const started = Date.now();
  const cpu = process.cpuUsage();
  let done = 0;
  const finish = () => {
    const used = process.cpuUsage(cpu);
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(JSON.stringify({ perSecond: done / seconds, cpuUsPerSig: (used.user + used.system) / done }));
  };
  if (mode === 'main') {
    while (Date.now() - started < MEASURE_MS) {
      for (let i = 0; i < 20; i++) sign('sha256', input, key);
      done += 20;
    }
    finish();
  } else {
    let inFlight = 0;
    const next = () => {
      if (Date.now() - started >= MEASURE_MS) {
        if (inFlight === 0) finish();
        return;
      }
      inFlight++;
      sign('sha256', input, key, () => {
        inFlight--;
        done++;
        next();
      });
    };
    for (let i = 0; i < IN_FLIGHT; i++) next();
  }
  return;
}

const HAS_TASKSET = spawnSync('taskset', ['-c', '0', 'true']).status === 0 && os.availableParallelism() >= 2;
const rows = [];
for (const alg of ['RS256', 'ES256']) {
  for (const cores of HAS_TASKSET ? ['0', '0,1'] : ['all']) {
    for (const mode of ['main', 'pool']) {
      const args = [__filename, '--child', alg, mode, ...(SMOKE ? ['--smoke'] : [])];
      const out = HAS_TASKSET ? spawnSync('taskset', ['-c', cores, process.execPath, ...args]) : spawnSync(process.execPath, args);
      const r = JSON.parse(out.stdout.toString());
      rows.push({ alg, cores: cores === '0' ? 1 : cores === '0,1' ? 2 : os.availableParallelism(), mode, ...r });
    }
  }
}
console.log(`bare signing rate, ${MEASURE_MS} ms each${SMOKE ? ' (smoke)' : ''}; load ${os.loadavg()[0].toFixed(1)} on ${os.availableParallelism()} cores (req/s on a loaded machine are indicative only)\n`);
console.log('| alg | cores | where | signatures/s | process CPU µs per signature |\n|---|--:|---|--:|--:|');
for (const r of rows) console.log(`| ${r.alg} | ${r.cores} | ${r.mode === 'main' ? 'main thread' : 'thread pool'} | ${Math.round(r.perSecond)} | ${r.cpuUsPerSig.toFixed(1)} |`);
