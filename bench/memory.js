// `npm run bench:memory`: a guard that has seen one million distinct valid tokens stays under a stated RSS ceiling (its token cache is bounded).
'use strict';
const { mkdtempSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const lib = require('../dist');
const { CachingTokenVerifier } = require('../dist/core');

const TOKENS = Number(process.argv.find((a) => a.startsWith('--tokens='))?.slice(9) ?? 1_000_000);
/** The ceiling this check holds the guard process to, in MB (see bench/README.md). */
const RSS_CEILING_MB = 200;

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ecc-memory-'));
  // ES256: the cheapest valid tokens to mint a million of (signing is not what is measured here).
  const oauth = lib.createOAuth({
    issuer: 'http://127.0.0.1:9999',
    database: path.join(dir, 'memory.sqlite'),
    signingAlgorithm: 'ES256',
    bcryptCost: 4,
    logger: { warn() {}, error() {} },
  });
  try {
    const { client } = await oauth.registry.create({ name: 'memory', scopes: 'read' });
    const guard = oauth.requireScope('read');
    let cache;
    const guardCacheSize = () => cache?.size ?? '?';
    // The guard's verifier is the token cache; reach it through the runtime the guard binds on first use.
    const original = CachingTokenVerifier.prototype.verify;
    CachingTokenVerifier.prototype.verify = function verify(token) {
      cache = this;
      return original.call(this, token);
    };
    const mb = (bytes) => Math.round(bytes / 2 ** 20);
    console.log(`guard sees ${TOKENS.toLocaleString('en-US')} distinct tokens; token cache size ${lib.DEFAULTS.tokenCacheSize}; ceiling ${RSS_CEILING_MB} MB`);
    const started = Date.now();
    let peak = 0;
    for (let i = 1; i <= TOKENS; i++) {
      const { access_token: token } = await oauth.server.issueToken(client, { grant_type: 'client_credentials' });
      const authorization = `Bearer ${token}`;
      const req = { method: 'GET', originalUrl: '/api/items', headers: { host: 'x', authorization }, rawHeaders: ['Authorization', authorization], socket: {} };
      await new Promise((resolve, reject) => guard(req, {}, (err) => (err ? reject(err) : resolve())));
      if (!req.auth) throw new Error('the guard let a request through without req.auth');
      if (i % 100_000 === 0 || i === TOKENS) {
        const rss = process.memoryUsage().rss;
        peak = Math.max(peak, rss);
        // With --expose-gc, the live heap after a full collection shows what is retained, not garbage not yet swept.
        global.gc?.();
        const live = global.gc ? `, live heap after GC ${mb(process.memoryUsage().heapUsed)} MB` : '';
        console.log(`${i.toLocaleString('en-US').padStart(9)} tokens: RSS ${mb(rss)} MB${live}, cached tokens ${guardCacheSize()} (${Math.round((Date.now() - started) / 1000)} s)`);
      }
    }
    const peakMB = Math.max(mb(peak), Math.round(process.resourceUsage().maxRSS / 1024));
    // Issue 16.6: under the ceiling; the line, the target row and the exit code judge alike.
    const under = peakMB < RSS_CEILING_MB;
    console.log(`peak RSS ${peakMB} MB (ceiling ${RSS_CEILING_MB} MB): ${under ? 'ok' : 'OVER'}`);
    console.log(`\n| case | measured | target | met |\n|---|---|---|---|`);
    console.log(`| peak RSS of a guard that saw ${TOKENS.toLocaleString('en-US')} distinct tokens | ${peakMB} MB | < ${RSS_CEILING_MB} MB | ${under ? 'yes' : 'no'} |`);
    if (!under) process.exitCode = 1;
  } finally {
    await oauth.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
