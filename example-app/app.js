// The example items service: the token endpoint and an items API guarded by scopes, on the embedded SQLite default or the PostgreSQL database OAUTH_DB names.
'use strict';

const http = require('node:http');
const path = require('node:path');
const express = require('express');
const {
  adminRouter,
  closeDefaultOAuth,
  defaultOAuth,
  oauthErrorHandler,
  parseKeySecrets,
  requireScope,
  tokenRouter,
} = require('express-client-credentials');
const { jsonLinesAuditLogger } = require('express-client-credentials/audit');
// The environment is read through the library's one env module, as the default instance and the CLI read it.
const { keyRotationOptionsFromEnv, limitOptionsFromEnv, processEnvironment } = require('express-client-credentials/env');
const { ordersAudience } = require('./orders');

/** Kept small on purpose: the list lives in memory and never grows past this. */
const MAX_ITEMS = 100;

/**
 * Builds the service on the zero-config default instance. `options` configure that instance
 * (issuer, database, ...); left out, they come from OAUTH_ISSUER and OAUTH_DB.
 *
 * @param {import('express-client-credentials').OAuthOptions} [options]
 * @returns {import('express').Express}
 */
function createApp(options) {
  /** @type {{ id: number, name: string, createdBy: string }[]} */
  const items = [];
  let nextId = 1;
  const app = express();
  app.disable('x-powered-by'); // no need to tell callers what the server runs

  app.use(tokenRouter(options)); // POST /oauth/token
  app.use('/admin', adminRouter()); // the admin API (OpenAPI at /admin/openapi.json), for tokens with scope oauth:admin

  app.get('/api/items', requireScope('read'), (req, res) => {
    res.json({ items });
  });

  // The guard runs before the body parser: a request without a good token is refused unread.
  app.post('/api/items', requireScope('write'), express.json({ limit: '1kb' }), (req, res) => {
    const name = req.body && req.body.name;
    if (typeof name !== 'string' || name.trim() === '' || name.length > 100) {
      res.status(400).json({ error: 'invalid_request', error_description: 'send {"name": "..."} with 1 to 100 characters' });
      return;
    }
    const item = { id: nextId++, name: name.trim(), createdBy: req.auth.clientId };
    items.push(item);
    if (items.length > MAX_ITEMS) items.shift();
    res.status(201).json(item);
  });

  app.use(oauthErrorHandler()); // 401 / 403 / 400 from the guards as RFC 6750 JSON
  app.use((err, _req, res, _next) => {
    // Anything else (a malformed JSON body, a bug): a short JSON answer, never a stack trace.
    const status = err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) console.error(err);
    res.status(status).json({ error: status === 500 ? 'server_error' : 'invalid_request' });
  });
  return app;
}

/**
 * On an empty database, registers a demo client allowed `read` and `write`, for this service and for
 * the `audiences` given (the orders service's, RFC 8707). Returns it with its secret (the only time
 * the secret exists in clear), or `undefined` when clients already exist.
 *
 * @param {string[]} [audiences]
 */
async function ensureDemoClient(audiences = []) {
  const { registry } = defaultOAuth();
  if ((await registry.listPage({ limit: 1 })).clients.length > 0) return undefined; // one row, not the whole registry
  return registry.create({ name: 'demo client', scopes: 'read write', audiences });
}

/** The curl session that gets a token and calls both routes; POSIX shell, `node` reads the JSON. */
function curlCommands(baseUrl, clientId, clientSecret) {
  const credentials = clientId ? `'${clientId}:${clientSecret}'` : '"$CLIENT_ID:$CLIENT_SECRET"';
  return [
    `TOKEN=$(curl -s -u ${credentials} -d grant_type=client_credentials ${baseUrl}/oauth/token | node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).access_token')`,
    `curl -s -H "Authorization: Bearer $TOKEN" ${baseUrl}/api/items`,
    `curl -s -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"name":"first item"}' ${baseUrl}/api/items`,
  ];
}

/**
 * The Redis client the failure limits count in (ioredis). No offline queue and a bounded reconnect:
 * while Redis is away every counting step fails at once, and the instance counts in its own memory
 * instead of making clients wait (see the README's shared failure limits).
 */
function sharedLimitsRedis(url) {
  const Redis = require('ioredis');
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: (times) => Math.min(times * 200, 5000) });
  // ioredis reports connection errors as events; without a listener Node would treat them as fatal.
  redis.on('error', () => {});
  return redis;
}

/**
 * The PostgreSQL pool the failure limits count in (node-postgres), apart from the store's: a few
 * connections and a short connection timeout, so counting never waits behind the store's queries and
 * an unreachable database makes the instance count in its own memory at once.
 */
function sharedLimitsPostgres(url) {
  const { Pool } = require('pg');
  const pool = new Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 1000 });
  // An idle client's error is reported on the pool; without a listener Node would treat it as fatal.
  pool.on('error', () => {});
  return pool;
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

/**
 * How the database is named in what the service prints: a SQLite file by its absolute path, a
 * PostgreSQL URL without its password.
 */
function describeDatabase(database) {
  if (!/^postgres(ql)?:\/\//i.test(database)) return path.resolve(database);
  const url = new URL(database);
  if (url.password) url.password = '***';
  return url.toString();
}

function parsePort(value) {
  const port = Number(value ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, not ${JSON.stringify(value)}`);
  return port;
}

/**
 * Starts the service: listens on `PORT` (default 3000) at `HOST` (default 127.0.0.1), opens `OAUTH_DB`
 * (default ./oauth.sqlite; a postgres:// URL for PostgreSQL), uses `OAUTH_ISSUER` (default http://localhost:PORT), creates the demo
 * client on an empty database and prints how to call it. With `OAUTH_LIMITS_REDIS` (a redis:// URL) or
 * `OAUTH_LIMITS_POSTGRES` (a postgres:// URL), the failure limits are counted there, shared with every
 * instance pointed at it.
 *
 * @param {{ env?: Record<string, string | undefined>, print?: (line: string) => void, auditLog?: { write(line: string): unknown } }} [context]
 * @returns {Promise<{ name: string, url: string, server: http.Server, close: () => Promise<void> }>}
 */
async function start({ env = processEnvironment(), print = console.log, auditLog = process.stdout } = {}) {
  const host = env.HOST || '127.0.0.1';
  // Node's own limits on a whole request, set to match the library's bodyTimeout (5 s): a request
  // whose headers have not arrived in 10 s, or that has not been received in full in 15 s, is
  // refused by Node before it reaches any route (Node's defaults are 60 s and 5 minutes).
  const server = http.createServer({ headersTimeout: 10_000, requestTimeout: 15_000 });
  const port = await listen(server, parsePort(env.PORT), host);
  if (env.OAUTH_LIMITS_REDIS && env.OAUTH_LIMITS_POSTGRES) {
    server.close();
    throw new Error('set one of OAUTH_LIMITS_REDIS and OAUTH_LIMITS_POSTGRES, not both');
  }
  // OAUTH_LIMITS_REDIS=redis://127.0.0.1:6379: the failure limits are shared with every instance using that Redis.
  const limitsRedis = env.OAUTH_LIMITS_REDIS ? sharedLimitsRedis(env.OAUTH_LIMITS_REDIS) : undefined;
  // OAUTH_LIMITS_POSTGRES=postgres://...: the same in PostgreSQL (it may be OAUTH_DB's database).
  const limitsPostgres = env.OAUTH_LIMITS_POSTGRES ? sharedLimitsPostgres(env.OAUTH_LIMITS_POSTGRES) : undefined;
  const close = async () => {
    await new Promise((resolve) => server.close(() => resolve(undefined)));
    await closeDefaultOAuth();
    limitsRedis?.disconnect();
    await limitsPostgres?.end();
  };
  const loopback = ['127.0.0.1', '::1', '0.0.0.0', '::', 'localhost'].includes(host);
  const url = `http://${loopback ? 'localhost' : host}:${port}`;
  let demo;
  try {
    // Attached before the first await: no request can arrive without a handler.
    const issuer = env.OAUTH_ISSUER || `http://localhost:${port}`;
    // OAUTH_KEY_SECRET encrypts the private signing keys in the database (comma-separated to rotate it).
    const keySecret = env.OAUTH_KEY_SECRET ? { keySecret: parseKeySecrets(env.OAUTH_KEY_SECRET) } : {};
    // OAUTH_KEY_ROTATION=30d rotates the signing key every 30 days, publishing the next key
    // OAUTH_KEY_PUBLISH_AHEAD (default 5m) before it signs (docs/operations.md, "Scheduled key rotation").
    const rotation = keyRotationOptionsFromEnv(env);
    const limiterStore = limitsRedis
      ? { limiterStore: { redis: limitsRedis } }
      : limitsPostgres
        ? { limiterStore: { postgres: limitsPostgres } }
        : {};
    server.on('request', createApp({ issuer, database: env.OAUTH_DB, ...keySecret, ...rotation, ...limiterStore, ...limitOptionsFromEnv(env) }));
    // A missing or wrong OAUTH_KEY_SECRET for encrypted keys stops the start here, not on the first token request.
    await defaultOAuth().ready();
    // Audit events (token issued, authentication failed, rate limit hit, ...) as JSON lines on stdout.
    defaultOAuth().events.on('audit', jsonLinesAuditLogger(auditLog));
    // A PostgreSQL database connects and migrates now: an unreachable one, or one with a newer schema, stops the start here.
    await defaultOAuth().ready();
    demo = await ensureDemoClient([ordersAudience(env)]);
  } catch (err) {
    await close();
    throw err;
  }

  const database = defaultOAuth().server.options.database;
  print(`items service listening on ${url} (database ${describeDatabase(database)})`);
  // A PostgreSQL URL may hold a password: point the CLI at the variable rather than print it.
  const db = /^postgres(ql)?:\/\//i.test(database) ? '"$OAUTH_DB"' : JSON.stringify(path.resolve(database));
  print('  POST /oauth/token   client credentials grant');
  print('  GET  /api/items     needs scope read');
  print('  POST /api/items     needs scope write');
  print('  /admin/...          the admin API (GET /admin/openapi.json), needs scope oauth:admin');
  print('');
  if (demo) {
    print('Created a demo client (scopes: read write). Its secret is shown only this once:');
    print(`  client_id:     ${demo.client.id}`);
    print(`  client_secret: ${demo.clientSecret}`);
    print('');
    print('Get a token and call both routes:');
    for (const line of curlCommands(url, demo.client.id, demo.clientSecret)) print(`  ${line}`);
  } else {
    print('Clients already exist, so no demo client was created (its secret was shown on the first run).');
    print('Register a client, or give one a new secret, with the CLI:');
    print(`  npx express-client-credentials client create --db ${db} --name my-service --scope "read write"`);
    print(`  npx express-client-credentials client rotate-secret --db ${db} CLIENT_ID`);
    print('Then set CLIENT_ID and CLIENT_SECRET to its credentials and:');
    for (const line of curlCommands(url)) print(`  ${line}`);
  }
  print('An admin client for the admin API (its secret is printed once):');
  print(`  npx express-client-credentials client create --db ${db} --name admin --scope oauth:admin`);
  print('');
  return {
    name: 'items service',
    url,
    issuer: defaultOAuth().server.options.issuer,
    demo: demo && { clientId: demo.client.id, clientSecret: demo.clientSecret },
    server,
    close,
  };
}

module.exports = { name: 'items service', createApp, ensureDemoClient, curlCommands, start };

if (require.main === module) require('./start').run([module.exports]);
