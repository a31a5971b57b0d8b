// `npm run bench:revocation`: what one revocation costs an instance as the number of revoked tokens grows (1k, 10k, 100k), SQLite next to PostgreSQL in the same run.
'use strict';
const { mkdtempSync, rmSync, writeFileSync, mkdirSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const lib = require('../dist');
// The stores come from their subpaths (the package root exports neither).
const { SqliteStore } = require('../dist/store/sqlite');
const { PostgresStore } = require('../dist/store/postgres');

const SMOKE = process.argv.includes('--smoke');
const SIZES = SMOKE ? [100, 1000] : [1000, 10_000, 100_000];
/** Revocations measured per case; the median and p95 are reported. */
const SAMPLES = SMOKE ? 5 : 40;
const ISSUER = 'http://127.0.0.1:9999';
const PG_URL = process.env.OAUTH_BENCH_PG_URL || process.env.OAUTH_TEST_PG_URL;
const quiet = { warn() {}, error() {} };

/** A fresh database holding `n` revocations of unexpired tokens; resolves with its `database` string and a cleanup. */
async function freshDatabase(kind, n, dir) {
  const expiresAt = Date.now() + 3_600_000;
  if (kind === 'SQLite') {
    const database = path.join(dir, `revocations-${n}.sqlite`);
    const store = SqliteStore.open(database);
    const insert = store.db.prepare('INSERT INTO revoked_tokens (jti, client_id, expires_at) VALUES (?, ?, ?)');
    store.db.transaction(() => {
      for (let i = 0; i < n; i++) insert.run(`bulk-${i}`, 'bulk', expiresAt);
    })();
    await store.close();
    return { database, cleanup: async () => undefined };
  }
  const { Pool } = require('pg');
  const schema = `bench_rev_${process.pid}_${n}`;
  const admin = new Pool({ connectionString: PG_URL, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = new URL(PG_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const store = PostgresStore.open(PG_URL, { schema });
  await store.ready();
  await store.close();
  await admin.query(
    `INSERT INTO ${schema}.revoked_tokens (jti, client_id, expires_at) SELECT 'bulk-' || i, 'bulk', $1 FROM generate_series(1, $2) i`,
    [expiresAt, n],
  );
  return {
    database: url.toString(),
    cleanup: async () => {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    },
  };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * One case: revoke a token through the instance (RFC 7009 path), then have its guard check another,
 * still valid token: the time of both is what the revocation cost this instance, including any
 * reload of the revocation state it caused. The revoked token must be refused afterwards.
 */
async function measure(kind, n, dir) {
  const db = await freshDatabase(kind, n, dir);
  const oauth = lib.createOAuth({ issuer: ISSUER, database: db.database, bcryptCost: 4, logger: quiet });
  try {
    await oauth.ready();
    const { client } = await oauth.registry.create({ name: 'bench', scopes: 'read' });
    const issue = async () => (await oauth.server.issueToken(client, { grant_type: 'client_credentials', scope: 'read' })).access_token;
    const keep = await issue();
    const victims = [];
    for (let i = 0; i < SAMPLES; i++) victims.push(await issue());
    const check = (token) => oauth.server.verifyAccessToken(token, { audience: [ISSUER] });
    await check(keep); // loads the revocation state once: n rows
    const times = [];
    for (const victim of victims) {
      await check(victim);
      const started = process.hrtime.bigint();
      await oauth.server.revokeToken(client, victim);
      await check(keep);
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
      const refused = await check(victim).then(() => false, () => true);
      if (!refused) throw new Error(`${kind}, ${n}: a revoked token was still accepted`);
    }
    times.sort((a, b) => a - b);
    return { kind, n, median: percentile(times, 50), p95: percentile(times, 95) };
  } finally {
    await oauth.close();
    await db.cleanup();
  }
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ecc-bench-rev-'));
  const started = new Date();
  const kinds = PG_URL ? ['SQLite', 'PostgreSQL'] : ['SQLite'];
  if (!PG_URL) console.log('PostgreSQL not measured: set OAUTH_BENCH_PG_URL or OAUTH_TEST_PG_URL');
  try {
    const rows = [];
    for (const kind of kinds) {
      for (const n of SIZES) {
        const r = await measure(kind, n, dir);
        rows.push(r);
        console.log(`- ${kind}, ${n} revoked: median ${r.median.toFixed(2)} ms, p95 ${r.p95.toFixed(2)} ms`);
      }
    }
    const lines = [
      `Revocation cost (revoke one token, then the next guard check), ${SAMPLES} revocations per case, ${started.toISOString()}${SMOKE ? ' (smoke)' : ''}`,
      '',
      `| store | revoked tokens | median ms | p95 ms | median × the ${SIZES[0]} case |`,
      '|---|--:|--:|--:|--:|',
      ...rows.map((r) => {
        const base = rows.find((b) => b.kind === r.kind && b.n === SIZES[0]);
        return `| ${r.kind} | ${r.n} | ${r.median.toFixed(2)} | ${r.p95.toFixed(2)} | ${(r.median / base.median).toFixed(2)} |`;
      }),
    ];
    const table = lines.join('\n');
    console.log(`\n${table}`);
    if (!SMOKE) {
      const out = path.join(__dirname, 'results');
      mkdirSync(out, { recursive: true });
      const file = path.join(out, `revocation-${started.toISOString().replace(/[:.]/g, '-')}.md`);
      writeFileSync(file, `${table}\n`);
      console.log(`wrote ${path.relative(process.cwd(), file)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
