// `node bench/guard-cost.js`: CPU µs per call of what a cached token still costs in-process (RS256, as the HTTP bench): tokenRouter() at the root passing a request on, the guard alone, as medians of 5 rounds (profiling aid for issue 16.3).
'use strict';
const { mkdtempSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const lib = require('../dist');

const N = Number(process.argv.find((a) => a.startsWith('--n='))?.slice(4) ?? 100_000);

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ecc-guard-cost-'));
  const oauth = lib.createOAuth({ issuer: 'http://127.0.0.1:9999', database: path.join(dir, 'g.sqlite'), bcryptCost: 4, logger: { warn() {}, error() {} } });
  try {
    const { client } = await oauth.registry.create({ name: 'g', scopes: 'read' });
    const { access_token: token } = await oauth.server.issueToken(client, { grant_type: 'client_credentials' });
    // Each request gets a header string of its own, as from the HTTP parser: a string seen before has
    // its hash cached, which would hide what hashing a cache key costs.
    const header = Buffer.from(`Bearer ${token}`);
    const guard = oauth.requireScope('read');
    const router = oauth.tokenRouter();
    const request = (authorization = header.toString('latin1')) => ({ method: 'GET', url: '/api/items', originalUrl: '/api/items', path: '/api/items', baseUrl: '', headers: { host: 'x', authorization }, rawHeaders: ['Host', 'x', 'Authorization', authorization], params: {}, query: {}, socket: {} });
    const through = (mw, req) => new Promise((resolve, reject) => mw(req, {}, (err) => (err ? reject(err) : resolve())));
    const cases = {
      // What the harness itself costs (a request object, a promise): subtract it from the others.
      'a middleware that only calls next()': (req) => through((_q, _s, next) => next(), req),
      'tokenRouter() passing a request on': (req) => through(router, req),
      'requireScope() with a cached token': (req) => through(guard, req),
    };
    for (const [name, run] of Object.entries(cases)) {
      const rounds = [];
      for (let r = 0; r < 5; r++) {
        const cpu = process.cpuUsage();
        for (let i = 0; i < N; i++) await run(request());
        const used = process.cpuUsage(cpu);
        rounds.push((used.user + used.system) / N);
      }
      rounds.sort((a, b) => a - b);
      console.log(`${name}: ${rounds[2].toFixed(2)} µs CPU per call (median of 5 × ${N})`);
    }
  } finally {
    await oauth.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
