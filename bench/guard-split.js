// `node bench/guard-split.js`: over HTTP, where a guarded request's CPU goes: each route's CPU per response and the µs spent inside its middleware, for a no-op, the reading floor, the guard's fast path in steps, and the guard; every route in one process (pinned to CPU 0), autocannon on CPU 1, rounds alternating, medians.
'use strict';
const { execFile, spawnSync } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { HAS_TASKSET } = require('./processes');

const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const ROUNDS = Number(arg('rounds', '7'));
const DURATION = Number(arg('duration', '3'));
const ISSUER = 'http://127.0.0.1:9999';

// The server side runs on CPU 0: this script starts itself again there.
if (HAS_TASKSET && process.env.GUARD_SPLIT_PINNED !== '1') {
  const run = spawnSync('taskset', ['-c', '0', process.execPath, __filename, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, GUARD_SPLIT_PINNED: '1' } });
  process.exit(run.status ?? 1);
}

const express = require('express');
const lib = require('../dist');
const { CachingTokenVerifier } = require('../dist/core/verification/token-cache');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** What follows `Bearer ` in the only Authorization header, with no token in the URI (the guard's reading). */
function candidate(req) {
  let value;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 13 && raw[i].toLowerCase() === 'authorization') value = raw[i + 1];
  return value !== undefined && value.startsWith('Bearer ') && !req.originalUrl.includes('?') ? value.slice(7) : undefined;
}

/** A middleware timed from its call to its next(), when it calls next() before it returns (the cached path); others are counted apart. */
function timed(mw, stat) {
  return (req, res, next) => {
    let end;
    let returned = false;
    const start = process.hrtime.bigint();
    mw(req, res, (err) => {
      if (!returned) end = process.hrtime.bigint();
      next(err);
    });
    returned = true;
    if (end === undefined) {
      stat.later++;
      return;
    }
    stat.ns += end - start;
    stat.calls++;
  };
}

function load(port, token, seconds) {
  const cli = [require.resolve('autocannon/autocannon.js'), '-c', '50', '-d', String(seconds), '-j', '-H', `authorization=Bearer ${token}`, `http://127.0.0.1:${port}/api/items`];
  const [cmd, argv] = HAS_TASKSET ? ['taskset', ['-c', '1', process.execPath, ...cli]] : [process.execPath, cli];
  return new Promise((resolve, reject) => execFile(cmd, argv, (err, out) => (err ? reject(err) : resolve(JSON.parse(out)))));
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ecc-guard-split-'));
  const oauth = lib.createOAuth({ issuer: ISSUER, database: path.join(dir, 's.sqlite'), bcryptCost: 4, logger: { warn() {}, error() {} } });
  const servers = [];
  try {
    const { client } = await oauth.registry.create({ name: 's', scopes: 'read' });
    const { access_token: token } = await oauth.server.issueToken(client, { grant_type: 'client_credentials', scope: 'read' });
    // The guard's verified-token cache, built apart so its steps can be timed one by one.
    const cache = new CachingTokenVerifier({ verify: (t) => oauth.server.verifyAccessToken(t, { audience: [ISSUER] }) }, { maxEntries: 10_000, clock: Date.now });
    await cache.verify(token);
    const floorAuth = Object.freeze({ clientId: 'floor', scopes: Object.freeze(['read']), claims: Object.freeze({}) });
    const cases = {
      'a middleware that only calls next()': (_req, _res, next) => next(),
      'reads the header and the URI, sets req.auth (the floor)': (req, _res, next) => {
        if (candidate(req) === undefined) return next(new Error('no token'));
        req.auth = floorAuth;
        next();
      },
      '+ the verified-token cache (key, LRU, whole-token compare, time window)': (req, _res, next) => {
        const token = candidate(req);
        const hit = token === undefined ? undefined : cache.verifyCached(token);
        if (!hit) return next(new Error('not cached'));
        req.auth = hit;
        next();
      },
      '+ the revocation check': (req, _res, next) => {
        const token = candidate(req);
        const hit = token === undefined ? undefined : cache.verifyCached(token);
        if (!hit || !oauth.server.notRevokedNow(hit)) return next(new Error('not cached or void'));
        req.auth = hit;
        next();
      },
      'requireScope() (the guard)': oauth.requireScope('read'),
    };
    const items = (_req, res) => res.json({ items: [] });
    for (const [name, mw] of Object.entries(cases)) {
      const stat = { ns: 0n, calls: 0, later: 0 };
      const app = express();
      app.get('/api/items', timed(mw, stat), items);
      const server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      servers.push({ name, server, port: server.address().port, stat, cpu: [], inside: [] });
    }
    for (const s of servers) await load(s.port, token, 1);
    for (let r = 0; r < ROUNDS; r++) {
      // The order rotates, so no case always follows the same one.
      for (let k = 0; k < servers.length; k++) {
        const s = servers[(k + r) % servers.length];
        s.stat.ns = 0n;
        s.stat.calls = 0;
        s.stat.later = 0;
        const before = process.cpuUsage();
        const result = await load(s.port, token, DURATION);
        const used = process.cpuUsage(before);
        if (result.non2xx > 0 || result.errors > 0) throw new Error(`${s.name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
        s.cpu.push((used.user + used.system) / result.requests.total);
        s.inside.push(Number(s.stat.ns) / s.stat.calls / 1000);
        s.later = (s.later ?? 0) + s.stat.later;
      }
    }
    const base = servers[0];
    console.log(`| case (one process, ${ROUNDS} alternating rounds of ${DURATION} s, load average ${os.loadavg()[0].toFixed(2)}) | CPU µs per response | over the no-op, µs (median of the rounds' differences) | µs inside the middleware |`);
    console.log('|---|--:|--:|--:|');
    for (const s of servers) {
      const over = s.cpu.map((c, k) => c - base.cpu[k]);
      console.log(`| ${s.name} | ${median(s.cpu).toFixed(1)} | ${median(over).toFixed(1)} | ${median(s.inside).toFixed(2)} |`);
    }
    const later = servers.filter((s) => s.later > 0).map((s) => `${s.name}: ${s.later}`);
    if (later.length > 0) console.log(`\nrequests answered off the cached path (not timed): ${later.join(', ')}`);
  } finally {
    for (const s of servers) s.server.close();
    await oauth.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
