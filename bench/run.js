// `npm run bench`: every case side by side in one run (ours, the peers, bare Express at start and end), written to bench/results/.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const { mkdtempSync, rmSync, writeFileSync, mkdirSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const lib = require('../dist');
const { renderChart } = require('./chart');
const { HAS_TASKSET, child, nextMessage } = require('./processes');
const { annotate, renderTable } = require('./table');
const { tokenRequest } = require('./token-fixture');

const SMOKE = process.argv.includes('--smoke');
/** `--only=text` runs the cases whose name contains text (`a|b`: either); `--cpu-prof=dir` profiles their servers (see bench/profile.js). */
const ONLY = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
const PROFILE_DIR = process.argv.find((a) => a.startsWith('--cpu-prof='))?.slice(11);
/**
 * One V8 hash seed for every server of the run (`--hash-seed=N`, else drawn now), recorded with it, so
 * that a case and its baseline differ by their code and not by a seed each process drew (a small
 * effect, bench/README.md, seventh session, but free to remove).
 */
const HASH_SEED = Number(process.argv.find((a) => a.startsWith('--hash-seed='))?.slice(12) ?? 1 + Math.floor(Math.random() * 2 ** 31));
const ISSUER = 'http://127.0.0.1:9999';
// Smoke measures long enough that a bcrypt case (tens of ms a request, one comparison at a time) answers
// even on a loaded machine: 0 responses counts as a failed case.
const TIMING = SMOKE ? { warmup: 0.3, duration: 1.5, connections: 8 } : { warmup: 3, duration: 10, connections: 50 };
/** The flood cases (issue 16.4): a valid client's connections from 127.0.0.1 and a wrong-secret flood's from 127.0.0.2. */
const FLOOD = { validConnections: 4, floodConnections: 32, validAddress: '127.0.0.1', floodAddress: '127.0.0.2' };
/** More ids than a run can send (~20 req/s of bcrypt for 13 s here): each measured request is a client never seen before. */
const FIRST_CONTACT_CLIENTS = SMOKE ? 200 : 5000;
/**
 * Distinct tokens for the cold guard cases: more than the verified-token cache holds, sent in a
 * fixed rotation, so a token comes back only after the cache has evicted it (LRU) and every request
 * pays a signature check, as the peers do on every request.
 */
const TOKEN_POOL = Math.ceil(lib.DEFAULTS.tokenCacheSize * 1.2);

/** PostgreSQL for the PostgreSQL cases: OAUTH_BENCH_PG_URL, else the tests' OAUTH_TEST_PG_URL; without one those cases are listed as not measured. */
const PG_URL = process.env.OAUTH_BENCH_PG_URL || process.env.OAUTH_TEST_PG_URL;
const PG_SCHEMA = `bench_${process.pid}`;

/** The PostgreSQL database of the bench, in a schema of its own (dropped at the end), or undefined. */
async function preparePostgres(quiet) {
  if (!PG_URL) return undefined;
  const { Pool } = require('pg');
  const admin = new Pool({ connectionString: PG_URL, max: 1 });
  await admin.query(`CREATE SCHEMA ${PG_SCHEMA}`);
  await admin.end();
  const url = new URL(PG_URL);
  url.searchParams.set('options', `-c search_path=${PG_SCHEMA}`);
  const database = url.toString();
  const oauth = lib.createOAuth({ issuer: ISSUER, database, bcryptCost: 10, logger: quiet });
  const { client, clientSecret } = await oauth.registry.create({ name: 'returning', scopes: 'read write' });
  const token = (await oauth.server.issueToken(client, { grant_type: 'client_credentials', scope: 'read' })).access_token;
  const made = { database, id: client.id, secret: clientSecret, token, jwks: await oauth.server.keys.publicJwks() };
  await oauth.close();
  return made;
}

async function dropPostgres() {
  if (!PG_URL) return;
  const { Pool } = require('pg');
  const admin = new Pool({ connectionString: PG_URL, max: 1 });
  await admin.query(`DROP SCHEMA IF EXISTS ${PG_SCHEMA} CASCADE`);
  await admin.end();
}

/** Databases, clients (bcrypt cost 10) and a token, made before any server starts. */
async function prepare(dir) {
  const quiet = { warn() {}, error() {} };
  const made = { pg: await preparePostgres(quiet) };
  for (const alg of ['RS256', 'ES256']) {
    const database = path.join(dir, `${alg}.sqlite`);
    const oauth = lib.createOAuth({ issuer: ISSUER, database, bcryptCost: 10, signingAlgorithm: alg, logger: quiet });
    const { client, clientSecret } = await oauth.registry.create({ name: 'returning', scopes: 'read write' });
    const token = (await oauth.server.issueToken(client, { grant_type: 'client_credentials', scope: 'read' })).access_token;
    made[alg] = { database, id: client.id, secret: clientSecret, token, jwks: await oauth.server.keys.publicJwks() };
    if (alg === 'RS256') {
      made.tokenPool = [];
      while (made.tokenPool.length < TOKEN_POOL) {
        const batch = Array.from({ length: Math.min(64, TOKEN_POOL - made.tokenPool.length) }, () =>
          oauth.server.issueToken(client, { grant_type: 'client_credentials', scope: 'read' }),
        );
        for (const t of await Promise.all(batch)) made.tokenPool.push({ headers: { authorization: `Bearer ${t.access_token}` } });
      }
    }
    if (alg === 'RS256') {
      // First-contact clients share one secret and its cost-10 hash (hashing thousands would take minutes);
      // each id is still unknown to the server's memory, so each first request pays bcrypt.
      const hash = client.secrets[0].hash;
      made.firstContact = [];
      for (let i = 0; i < FIRST_CONTACT_CLIENTS; i++) {
        const id = `first-contact-${i}`;
        await oauth.server.store.createClient(
          { id, name: id, scopes: ['read'], audiences: [], grantTypes: ['client_credentials'], tokenFormat: 'jwt', secretHash: hash },
          Date.now(),
        );
        made.firstContact.push(tokenRequest(id, clientSecret, 'basic'));
      }
    }
    await oauth.close();
  }
  return made;
}

const GET_CEILING = 'bare Express GET';
const POST_CEILING = 'bare Express POST, form body';
const TOKEN_PEERS = ['oauth2orize + passport-http (bcrypt each request)', '@node-oauth/oauth2-server (bcrypt each request)'];
const peersOfGuard = (kind) => [`express-oauth2-jwt-bearer, ${kind}`, `express-jwt + express-jwt-authz, ${kind}`];
const ONE_TOKEN = 'one token (cached)';
const DISTINCT = 'distinct tokens (cold)';
const OIDC_PEER = 'node-oidc-provider: token, plain secret, RS256 JWT access token';
const WRONG_SECRET = 'not-the-secret';
/** Issue 16.2's bounds: the signing rate of the algorithm alone, and a bare Express POST that also signs a token. */
const signingCase = (alg) => `bare signing rate, ${alg}, no HTTP`;
const signingCeiling = (alg) => `${POST_CEILING} + ${alg} signature`;

/**
 * Every case of a run. `baseline` names the bare Express route its ratio divides by: a GET for the
 * guards, a POST with the same urlencoded form body for the token endpoints. `peers` are the rows it
 * is compared with.
 */
function cases(m) {
  const rs = m.RS256;
  const es = m.ES256;
  const token = (server, db, how, extra = {}) => ({
    server,
    database: db.database,
    spec: { method: 'POST', path: '/oauth/token', ...tokenRequest(db.id, db.secret, how) },
    expect: 200,
    baseline: POST_CEILING,
    ...extra,
  });
  const guard = (server, kind, db = rs) => ({
    server,
    database: db.database,
    jwks: db.jwks,
    spec:
      kind === ONE_TOKEN
        ? { method: 'GET', path: '/api/items', headers: { authorization: `Bearer ${db.token}` } }
        : { method: 'GET', path: '/api/items', variants: m.tokenPool },
    expect: 200,
    baseline: GET_CEILING,
    cold: kind === DISTINCT,
  });
  const ours = (name, c) => ({ name, ours: true, ...c });
  // The same request as the guard cases, token included: the plain route a user compares a guarded
  // one with is called by the same client, so the baseline parses the same ~800-byte header.
  const bareGet = (when) => ({
    name: `${GET_CEILING} (${when})`,
    group: 'ceiling',
    ceiling: GET_CEILING,
    server: 'bare',
    spec: { method: 'GET', path: '/api/items', headers: { authorization: `Bearer ${rs.token}` } },
    expect: 200,
  });
  // What no guard can go under (issue 16.3): the same route with a middleware that only calls next(),
  // and one that only sets req.auth to a constant; divided by the bare GET like the guard cases.
  const floor = (name, server) => ({
    name,
    group: 'guard',
    server,
    spec: { method: 'GET', path: '/api/items', headers: { authorization: `Bearer ${rs.token}` } },
    expect: 200,
    baseline: GET_CEILING,
  });
  // The body-credential form: the longer of the two token request bodies, all of it parsed.
  const barePost = (when) => ({ name: `${POST_CEILING} (${when})`, group: 'ceiling', ceiling: POST_CEILING, server: 'bare-post', spec: { method: 'POST', path: '/oauth/token', ...tokenRequest(rs.id, rs.secret, 'body') }, expect: 200 });
  // The ceiling of any Express token endpoint (issue 16.2): the same POST, its form parsed, a JWT of
  // the same claims signed by the library's signJws (the same node:crypto call, on the pool or in
  // place as ours), answered with the same headers. Only the client authentication and the grant's
  // decisions are missing.
  const signedPost = (alg, db) => ({
    name: signingCeiling(alg),
    group: 'ceiling',
    ceiling: signingCeiling(alg),
    baseline: POST_CEILING,
    server: 'bare-post-signed',
    database: db.database,
    options: { signingAlgorithm: alg },
    spec: { method: 'POST', path: '/oauth/token', ...tokenRequest(db.id, db.secret, 'body') },
    expect: 200,
  });
  // Signatures alone on the server's pinned core, signed as ours signs them (bench/signing.js).
  const signing = (alg) => ({ name: signingCase(alg), group: 'signing', signing: alg });
  const noPg = 'no PostgreSQL: set OAUTH_BENCH_PG_URL or OAUTH_TEST_PG_URL';
  const pg = m.pg;
  return [
    bareGet('start'),
    barePost('start'),
    signing('RS256'),
    signedPost('RS256', rs),
    signing('ES256'),
    signedPost('ES256', es),
    ours('ours: token, returning client, Basic, RS256', { group: 'token', peers: [...TOKEN_PEERS, OIDC_PEER], ...token('ours-token', rs, 'basic') }),
    ours('ours: token, returning client, body, RS256', { group: 'token', peers: [...TOKEN_PEERS, OIDC_PEER], ...token('ours-token', rs, 'body') }),
    ours('ours: token, returning client, Basic, ES256', { group: 'token', peers: TOKEN_PEERS, ...token('ours-token', es, 'basic', { options: { signingAlgorithm: 'ES256' } }) }),
    ours('ours: token, returning client, body, ES256', { group: 'token', peers: TOKEN_PEERS, ...token('ours-token', es, 'body', { options: { signingAlgorithm: 'ES256' } }) }),
    ours('ours: token, first-contact clients (bcrypt), RS256', {
      group: 'bcrypt',
      peers: TOKEN_PEERS,
      server: 'ours-token',
      database: rs.database,
      // `unique`: every request, warm-up included, names a client id never sent before (checked
      // by the load generator and, from the Authorization headers it received, by the server).
      spec: { method: 'POST', path: '/oauth/token', variants: m.firstContact, unique: true },
      countCredentials: true,
      expect: 200,
      baseline: POST_CEILING,
      // Every request here waits for bcrypt; a longer queue than the default 32 keeps load shedding
      // (503, by design) out of a throughput measurement. All 50 connections come from one address,
      // and an attempt still being compared counts against the address limit (so concurrent guesses
      // cannot overshoot it): the default 30 refused most of them (429). This case measures bcrypt
      // throughput, not the limits, so the address limit is raised past the requests in flight.
      options: { maxQueuedAuthentications: 1000, addressFailureLimit: 1000 },
    }),
    // Issue 16.4: what a refusal by the address limit costs, next to the grants above. The server uses
    // up its own loopback address's limit before it reports ready; no delay, so this measures CPU.
    ours('ours: token, refused by the address failure limit (Basic, RS256)', {
      group: 'refusal',
      ...token('ours-token', { ...rs, secret: WRONG_SECRET }, 'basic'),
      expect: 429,
      exhaust: [FLOOD.validAddress],
      options: { refusalDelay: 0 },
    }),
    // Issue 16.4: the valid returning client, alone and then beside a wrong-secret flood from another
    // address (used up before the run); with the default options (refusals held 1 s), and without the delay.
    ...[
      ['', {}],
      [', refusalDelay 0', { refusalDelay: 0 }],
    ].map(([suffix, options]) =>
      ours(`ours: token, valid client (${FLOOD.validConnections} conn.) under a wrong-secret flood (${FLOOD.floodConnections} conn.), Basic, RS256${suffix}`, {
        group: 'flood',
        flood: true,
        server: 'ours-token',
        database: rs.database,
        options,
        exhaust: [FLOOD.floodAddress],
        valid: { method: 'POST', path: '/oauth/token', ...tokenRequest(rs.id, rs.secret, 'basic'), expect: 200, connections: FLOOD.validConnections, localAddress: FLOOD.validAddress },
        attack: { method: 'POST', path: '/oauth/token', ...tokenRequest(rs.id, WRONG_SECRET, 'basic'), expect: 429, connections: FLOOD.floodConnections, localAddress: FLOOD.floodAddress },
      }),
    ),
    // The same cases on PostgreSQL, next to SQLite in the same run: the client row is read over a pooled connection.
    pg
      ? ours('ours: token, returning client, Basic, RS256, PostgreSQL', { group: 'token', peers: TOKEN_PEERS, ...token('ours-token', pg, 'basic') })
      : { name: 'ours: token, returning client, Basic, RS256, PostgreSQL', group: 'token', pending: noPg },
    floor('floor: bare Express GET behind a no-op middleware', 'bare-noop'),
    floor('floor: bare Express GET behind a middleware that only sets req.auth', 'bare-auth'),
    floor('floor: the same, in a process running createOAuth() unused', 'bare-auth-lib'),
    ours(`ours: guarded route, in-process guard, ${ONE_TOKEN}`, { group: 'guard', peers: peersOfGuard(ONE_TOKEN), ...guard('ours-guard', ONE_TOKEN) }),
    pg
      ? ours(`ours: guarded route, in-process guard, ${ONE_TOKEN}, PostgreSQL`, { group: 'guard', peers: peersOfGuard(ONE_TOKEN), ...guard('ours-guard', ONE_TOKEN, pg) })
      : { name: `ours: guarded route, in-process guard, ${ONE_TOKEN}, PostgreSQL`, group: 'guard', pending: noPg },
    ours(`ours: guarded route, in-process guard, ${DISTINCT}`, { group: 'guard', peers: peersOfGuard(DISTINCT), ...guard('ours-guard', DISTINCT) }),
    ours(`ours: guarded route after tokenRouter() at the root, ${ONE_TOKEN}`, {
      group: 'guard',
      peers: peersOfGuard(ONE_TOKEN),
      ...guard('ours-guard-after-token-router', ONE_TOKEN),
    }),
    // The remote guard's server mints its own tokens (its issuer URL has its port in it): see server.js.
    ours(`ours: guarded route, remote guard (JWKS), ${ONE_TOKEN}`, { group: 'guard', peers: peersOfGuard(ONE_TOKEN), ...guard('ours-remote-guard', ONE_TOKEN), clientId: rs.id }),
    ours(`ours: guarded route, remote guard (JWKS), ${DISTINCT}`, {
      group: 'guard',
      peers: peersOfGuard(DISTINCT),
      ...guard('ours-remote-guard', DISTINCT),
      clientId: rs.id,
      tokenPool: TOKEN_POOL,
    }),
    // A peer that signs a JWT per request and compares a plain secret: the one to beat at the signing limit (issue 16.2).
    { name: OIDC_PEER, group: 'token', peer: true, ...token('oidc-provider', rs, 'basic'), clientId: rs.id, clientSecret: rs.secret },
    { name: TOKEN_PEERS[0], group: 'bcrypt', peer: true, ...token('oauth2orize', rs, 'basic') },
    { name: TOKEN_PEERS[1], group: 'bcrypt', peer: true, ...token('node-oauth', rs, 'basic') },
    ...[ONE_TOKEN, DISTINCT].flatMap((kind) => [
      { name: peersOfGuard(kind)[0], group: 'guard', peer: true, ...guard('jwt-bearer', kind) },
      { name: peersOfGuard(kind)[1], group: 'guard', peer: true, ...guard('express-jwt', kind) },
    ]),
    barePost('end'),
    bareGet('end'),
  ];
}

/**
 * The bare signing rate of `c.signing` on the server's core (CPU 0, pinned like the servers), no HTTP:
 * signatures/s and process CPU µs per signature, from `bench/signing.js --child`, on libuv's thread
 * pool with 50 in flight, as the library signs (lib/core/tokens/jws.ts).
 */
function measureSigning(c) {
  const args = [path.join(__dirname, 'signing.js'), '--child', c.signing, 'pool', ...(SMOKE ? ['--smoke'] : [])];
  const [cmd, argv] = HAS_TASKSET ? ['taskset', ['-c', '0', process.execPath, ...args]] : [process.execPath, args];
  const out = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (out.status !== 0) return { failed: `signing.js exited with ${out.status}: ${out.stderr.trim().slice(0, 200)}` };
  const { perSecond, cpuUsPerSig } = JSON.parse(out.stdout);
  return { rps: perSecond, cpuUsPerRequest: Math.round(cpuUsPerSig * 10) / 10 };
}

/** Starts the case's server (pinned to CPU 0) and resolves it with its `ready` message. */
async function startServer(c, profile = []) {
  const server = child(
    'server.js',
    0,
    {
      BENCH_CONFIG: JSON.stringify({
        server: c.server,
        issuer: ISSUER,
        database: c.database,
        jwks: c.jwks,
        options: c.options,
        clientId: c.clientId,
        clientSecret: c.clientSecret,
        countCredentials: c.countCredentials,
        tokenPool: c.tokenPool,
        exhaust: c.exhaust,
      }),
    },
    [`--hash-seed=${HASH_SEED}`, ...profile],
  );
  return { server, ready: nextMessage(server, 'ready') };
}

/** Stops a case's server: a clean exit lets --cpu-prof write its profile; a server that does not stop is killed. */
async function stopServer(server) {
  if (server.exitCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.send('stop');
  const timer = setTimeout(() => server.kill(), 3000);
  await exited;
  clearTimeout(timer);
}

/**
 * A flood case (issue 16.4): bench/flood.js (pinned to CPU 1) runs the valid client alone, then with
 * the flood; the row's req/s and latency are the valid client's under the flood, `flood` holds both
 * phases. A case fails when the flood's answers are not all 429 or the server answered nothing.
 */
async function measureFlood(c) {
  const { server, ready } = await startServer(c);
  try {
    const { port } = await ready;
    const url = `http://127.0.0.1:${port}`;
    const first = await fetch(`${url}${c.valid.path}`, { method: c.valid.method, headers: c.valid.headers, body: c.valid.body });
    if (first.status !== 200) throw new Error(`${c.name}: the priming request got ${first.status}`);
    const load = child('flood.js', 1, {});
    const result = nextMessage(load, 'result');
    load.send({ url, valid: c.valid, flood: c.attack, warmup: TIMING.warmup, duration: TIMING.duration });
    const { result: r } = await result;
    const validTotal = r.quiet.ok + r.quiet.failed + r.flooded.ok + r.flooded.failed;
    const flood = {
      quietRps: r.quiet.rps,
      ratio: r.flooded.rps / r.quiet.rps,
      failureRate: (r.quiet.failed + r.flooded.failed) / Math.max(1, validTotal),
      validStatuses: { quiet: r.quiet.statuses, flooded: r.flooded.statuses },
      attackRps: r.attack.rps,
      attackStatuses: r.attack.statuses,
      firstUnexpected: r.firstUnexpected,
    };
    const failed =
      r.attack.failed > 0 || r.attack.ok === 0 || r.quiet.ok === 0
        ? `flood answers ${JSON.stringify(r.attack.statuses)}${r.attackFirstUnexpected ? `; first: ${r.attackFirstUnexpected}` : ''}; valid client quiet ${r.quiet.ok}`
        : undefined;
    return { rps: r.flooded.rps, total: r.flooded.ok, p50: r.flooded.p50, p99: r.flooded.p99, flood, failed };
  } finally {
    await stopServer(server);
  }
}

async function measure(c) {
  if (c.flood) return measureFlood(c);
  const profile = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(PROFILE_DIR)}`] : [];
  const { server, ready } = await startServer(c, profile);
  try {
    const { port, token, tokens } = await ready;
    const spec = tokens
      ? { ...c.spec, variants: tokens.map((t) => ({ headers: { authorization: `Bearer ${t}` } })) }
      : token
        ? { ...c.spec, headers: { ...c.spec.headers, authorization: `Bearer ${token}` } }
        : c.spec;
    const url = `http://127.0.0.1:${port}`;
    if (c.group === 'token') {
      // A returning client has authenticated before: one request first, as it would have.
      const first = await fetch(`${url}${spec.path}`, { method: spec.method, headers: spec.headers, body: spec.body });
      if (first.status !== c.expect) throw new Error(`${c.name}: the priming request got ${first.status}`);
    }
    const load = child('load.js', 1, {});
    const warmed = nextMessage(load, 'warmed');
    const result = nextMessage(load, 'result');
    load.send({ url, spec, expect: c.expect, ...TIMING });
    await warmed;
    const drained = nextMessage(server, 'drained');
    server.send('drain');
    await drained;
    server.send('measure');
    load.send('go');
    const { result: r } = await result;
    server.send('stats');
    const stats = await nextMessage(server, 'stats');
    const unexpected = Object.entries(r.statuses).filter(([code]) => Number(code) !== c.expect);
    const failed =
      unexpected.length > 0 || r.errors > 0 || r.timeouts > 0 || r.total === 0
        ? `unexpected: ${unexpected.map(([code, n]) => `${n}x ${code}`).join(', ') || 'none'}; errors ${r.errors}; timeouts ${r.timeouts}; measured ${r.total}${r.firstUnexpected ? `; first: ${r.firstUnexpected}` : ''}`
        : (variantProblem(c, spec, r, stats) ?? undefined);
    return { ...r, eventLoopDelay: stats.eventLoopDelay, peakRssMB: stats.peakRssMB, cpuUsPerRequest: stats.cpuUsPerRequest, credentials: stats.credentials, failed };
  } finally {
    await stopServer(server);
  }
}

/**
 * Why a case's requests do not measure what its name says, if they do not: a first-contact id sent
 * (or received) twice, or a cold-guard pool the verified-token cache could hold.
 */
function variantProblem(c, spec, r, stats) {
  if (spec.unique && r.sent.distinct < r.sent.total) {
    return `${r.sent.total - r.sent.distinct} of ${r.sent.total} requests repeated a client id (only ${r.sent.variants} ids)`;
  }
  if (stats.credentials && stats.credentials.distinct < stats.credentials.requests) {
    return `the server received ${stats.credentials.requests} requests from ${stats.credentials.distinct} distinct credentials`;
  }
  // In rotation, a token returns after `variants` others: a miss whenever that is more than the cache holds.
  if (c.cold && r.sent.variants <= lib.DEFAULTS.tokenCacheSize) {
    return `a pool of ${r.sent.variants} tokens; the token cache holds ${lib.DEFAULTS.tokenCacheSize}`;
  }
  return null;
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ecc-bench-'));
  const started = new Date();
  const loadAtStart = os.loadavg()[0];
  try {
    console.log(`${SMOKE ? 'smoke' : 'full'} run: warm-up ${TIMING.warmup}s, measure ${TIMING.duration}s, ${TIMING.connections} connections, ${HAS_TASKSET ? 'server on CPU 0, load on CPU 1' : 'no taskset: unpinned'}, V8 hash seed ${HASH_SEED} in every server`);
    const made = await prepare(dir);
    const rows = [];
    for (const c of cases(made).filter((c) => !ONLY || ONLY.split('|').some((part) => c.name.includes(part)))) {
      if (c.pending) {
        rows.push({ name: c.name, group: c.group, ours: true, pending: c.pending });
        console.log(`- ${c.name}: not measured (${c.pending})`);
        continue;
      }
      const r = c.signing ? measureSigning(c) : await measure(c);
      rows.push({ name: c.name, group: c.group, ours: Boolean(c.ours), peer: Boolean(c.peer), ceiling: c.ceiling, baseline: c.baseline, peers: c.peers, ...r });
      const measured = r.flood
        ? `valid client ${Math.round(r.flood.quietRps)} req/s alone, ${Math.round(r.rps)} req/s under the flood (${r.flood.ratio.toFixed(2)}×), ${(r.flood.failureRate * 100).toFixed(2)} % failures; flood answered ${Math.round(r.flood.attackRps)} req/s`
        : c.signing
          ? `${Math.round(r.rps)} signatures/s, ${r.cpuUsPerRequest} µs CPU/signature`
          : `${Math.round(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.cpuUsPerRequest} µs CPU/req`;
      console.log(`- ${c.name}: ${r.failed ? `FAILED (${r.failed})` : measured}`);
    }
    const run = annotate({
      started: started.toISOString(),
      smoke: SMOKE,
      timing: TIMING,
      pinned: HAS_TASKSET,
      machine: machine(),
      // What was measured and how busy the machine was: bench/summarize.js takes medians only over runs of one commit.
      commit: commit(),
      loadAverage: { start: loadAtStart, end: os.loadavg()[0] },
      hashSeed: HASH_SEED,
      rows,
    });
    const table = renderTable(run);
    console.log(`\n${table}`);
    const out = SMOKE || ONLY ? dir : path.join(__dirname, 'results');
    mkdirSync(out, { recursive: true });
    const stem = path.join(out, `run-${started.toISOString().replace(/[:.]/g, '-')}`);
    writeFileSync(`${stem}.json`, `${JSON.stringify(run, null, 2)}\n`);
    writeFileSync(`${stem}.md`, `${table}\n`);
    writeFileSync(`${stem}.svg`, renderChart(run));
    if (out !== dir) console.log(`wrote ${path.relative(process.cwd(), stem)}.{json,md,svg}`);
    const failed = rows.filter((r) => r.failed);
    if (failed.length > 0) {
      console.error(`${failed.length} case(s) failed`);
      process.exitCode = 1;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await dropPostgres();
  }
}

/** The commit measured, with `+dirty` when lib/ or bench/ has uncommitted changes (such runs are never summarized with others). */
function commit() {
  try {
    const git = (args) => execFileSync('git', args, { cwd: path.join(__dirname, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return `${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain', '--', 'lib', 'bench', ':(exclude)bench/results']) ? '+dirty' : ''}`;
  } catch {
    return 'unknown';
  }
}

function machine() {
  const cpus = os.cpus();
  return { cpu: cpus[0]?.model, cores: cpus.length, memoryGB: Math.round(os.totalmem() / 2 ** 30), node: process.version, os: `${os.type()} ${os.release()}` };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
