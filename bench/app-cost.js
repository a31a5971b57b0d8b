// `node bench/app-cost.js`: server CPU per request of a few apps driven in-process (no sockets), to split a guard's own cost from Express's and the HTTP stack's.
'use strict';
const http = require('node:http');
const { mkdtempSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Duplex } = require('node:stream');
const express = require('express');
const lib = require('../dist');

const N = Number(process.argv.find((a) => a.startsWith('--requests='))?.slice(11) ?? 20_000);
const ROUNDS = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 5);
/** `--only=text` keeps the cases whose name contains text (`a|b`: either); the first case, the baseline, always runs. */
const ONLY = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
const items = (_req, res) => res.json({ items: [] });

/**
 * One GET through `app` on a request/response pair whose socket discards what is written: Node's
 * real IncomingMessage and ServerResponse, no network and no HTTP parser. Resolves with the status.
 */
function request(app, headers) {
  return new Promise((resolve, reject) => {
    const socket = new Duplex({ write: (_chunk, _encoding, done) => done(), read() {} });
    const req = new http.IncomingMessage(socket);
    req.method = 'GET';
    req.url = '/api/items';
    req.headers = headers;
    req.rawHeaders = Object.entries(headers).flat();
    req.push(null);
    const res = new http.ServerResponse(req);
    res.assignSocket(socket);
    res.on('finish', () => resolve(res.statusCode));
    app(req, res, reject);
  });
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ecc-app-cost-'));
  // The issuer listens for real, so a remote guard can fetch its metadata and JWKS over loopback (once).
  const issuerApp = express();
  const listener = issuerApp.listen(0, '127.0.0.1');
  await new Promise((resolve) => listener.once('listening', resolve));
  const issuer = `http://127.0.0.1:${listener.address().port}`;
  const quiet = { warn() {}, error() {} };
  const oauth = lib.createOAuth({ issuer, database: path.join(dir, 'db.sqlite'), bcryptCost: 4, logger: quiet });
  issuerApp.use(oauth.tokenRouter());
  const remote = lib.createResourceServer({ issuer, audience: issuer, logger: quiet });
  try {
    await remote.ready();
    const { client } = await oauth.registry.create({ name: 'app-cost', scopes: 'read' });
    const token = (await oauth.server.issueToken(client, { grant_type: 'client_credentials', scope: 'read' })).access_token;
    const withToken = { host: '127.0.0.1', authorization: `Bearer ${token}` };
    const noop = (_req, _res, next) => next();
    const app = (build) => {
      const a = express();
      build(a);
      return a;
    };
    const cases = [
      ['bare GET, with the token header', withToken, app((a) => a.get('/api/items', items))],
      ['bare GET, no Authorization header', { host: '127.0.0.1' }, app((a) => a.get('/api/items', items))],
      ['bare GET, res.send("ok")', withToken, app((a) => a.get('/api/items', (_req, res) => res.send('ok')))],
      ['bare GET after tokenRouter() at the root', withToken, app((a) => a.use(oauth.tokenRouter()).get('/api/items', items))],
      // The floor of any guard written as a route middleware: Express dispatching one more handler.
      ['no-op middleware before the handler', withToken, app((a) => a.get('/api/items', noop, items))],
      ['guard, one token (cached)', withToken, app((a) => a.get('/api/items', oauth.requireScope('read'), items))],
      ['guard after tokenRouter() at the root, one token (cached)', withToken, app((a) => a.use(oauth.tokenRouter()).get('/api/items', oauth.requireScope('read'), items))],
      ['remote guard (JWKS), one token (cached)', withToken, app((a) => a.get('/api/items', remote.requireScope('read'), items))],
    ].filter(([name], i) => i === 0 || !ONLY || ONLY.split('|').some((part) => name.includes(part)));
    const samples = new Map(cases.map(([name]) => [name, []]));
    // Rounds alternate the cases, so a slow stretch of a shared machine touches them all.
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, headers, a] of cases) {
        for (let i = 0; i < 2000; i++) await request(a, headers);
        const start = process.cpuUsage();
        for (let i = 0; i < N; i++) {
          const status = await request(a, headers);
          if (status !== 200) throw new Error(`${name}: status ${status}`);
        }
        const cpu = process.cpuUsage(start);
        samples.get(name).push((cpu.user + cpu.system) / N);
      }
    }
    const median = (v) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)];
    const base = median(samples.get(cases[0][0]));
    console.log(`CPU µs per request, median of ${ROUNDS} rounds of ${N} (in-process, no sockets)\n`);
    console.log('| app | µs/request | vs bare GET | rounds |\n|---|--:|--:|---|');
    for (const [name, v] of samples) {
      const m = median(v);
      console.log(`| ${name} | ${m.toFixed(1)} | ${m - base >= 0 ? '+' : ''}${(m - base).toFixed(1)} | ${v.map((x) => x.toFixed(1)).join(' ')} |`);
    }
  } finally {
    remote.close();
    listener.close();
    await oauth.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
