// The second example service: an orders API with no database that checks the items service's tokens from another process (discovery + JWKS), and calls the items service with tokens of its own (the token client).
'use strict';

const http = require('node:http');
const express = require('express');
const { createResourceServer, oauthErrorHandler } = require('express-client-credentials');
const { processEnvironment } = require('express-client-credentials/env');
const { createTokenClient, relay } = require('express-client-credentials/client');

const ORDERS = [
  { id: 'o-1001', item: 'keyboard', quantity: 2 },
  { id: 'o-1002', item: 'monitor', quantity: 1 },
];

/**
 * The orders service's port: `ORDERS_PORT`, else the one above `PORT` (3001 beside the default 3000),
 * so that a second `npm start` on another `PORT` does not clash with the first; `PORT=0` (any free
 * port) gives 0 here too. Returns `undefined` for a value that is not a port.
 */
function ordersPort(env = processEnvironment()) {
  if (env.ORDERS_PORT) return portNumber(env.ORDERS_PORT);
  const base = portNumber(env.PORT || '3000');
  if (base === undefined || base === 0) return base;
  return base < 65535 ? base + 1 : undefined;
}

function portNumber(value) {
  const port = Number(value);
  return Number.isInteger(port) && port >= 0 && port <= 65535 ? port : undefined;
}

/** The audience the orders service answers to; the items service lets its demo client ask for it. */
function ordersAudience(env = processEnvironment()) {
  return env.ORDERS_AUDIENCE || `http://localhost:${ordersPort(env) ?? (env.ORDERS_PORT || 3001)}`;
}

/**
 * Builds the orders app: `GET /orders` needs `read`, `POST /orders` needs `write`, and only tokens
 * minted for this audience (`resource=<audience>` at the token endpoint, RFC 8707) are accepted.
 * With `items` (the items service's URL and a token client), `GET /catalog` (needs `read`) answers
 * with the items service's `GET /api/items`, called with the orders service's own token.
 *
 * @param {{ issuer: string, audience: string, items?: { url: string, client: import('express-client-credentials/client').TokenClient } }} options
 */
function buildOrdersService({ issuer, audience, items }) {
  const resourceServer = createResourceServer({ issuer, audience });
  const app = express();
  app.disable('x-powered-by'); // no need to tell callers what the server runs
  app.get('/health', (_req, res) => res.json({ ok: true }));
  app.get('/orders', resourceServer.requireScope('read'), (req, res) => {
    res.json({ orders: ORDERS, caller: req.auth.clientId });
  });
  app.post('/orders', resourceServer.requireScope('write'), (req, res) => {
    res.status(201).json({ id: 'o-1003', caller: req.auth.clientId });
  });
  if (items) {
    // One token for all callers, fetched once and refreshed before it expires.
    app.get('/catalog', resourceServer.requireScope('read'), (_req, res, next) => {
      relay(res, items.client.fetch(`${items.url}/api/items`)).catch(next);
    });
  }
  app.use(oauthErrorHandler());
  app.use((err, _req, res, _next) => {
    // The items service or its token endpoint could not be reached: a short 502, never a stack trace.
    res.status(502).json({ error: 'bad_gateway', error_description: err && err.error ? `no token for the items service (${err.error})` : 'the items service could not be reached' });
  });
  return { app, resourceServer };
}

/** The curl session against the orders service: a token for its audience, then a call. */
function curlCommands(ordersUrl, issuer, audience, clientId, clientSecret) {
  const credentials = clientId ? `'${clientId}:${clientSecret}'` : '"$CLIENT_ID:$CLIENT_SECRET"';
  return [
    `ORDERS_TOKEN=$(curl -s -u ${credentials} -d grant_type=client_credentials -d resource=${audience} ${issuer}/oauth/token | node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).access_token')`,
    `curl -s -H "Authorization: Bearer $ORDERS_TOKEN" ${ordersUrl}/orders`,
  ];
}

/**
 * The token client the orders service calls the items service with: its own credentials from
 * `ORDERS_CLIENT_ID` / `ORDERS_CLIENT_SECRET`, else the demo client of an items service started
 * before it; `undefined` when there are none.
 */
function itemsClient(issuer, env, demo) {
  const clientId = env.ORDERS_CLIENT_ID || (demo && demo.clientId);
  const clientSecret = env.ORDERS_CLIENT_SECRET || (demo && demo.clientSecret);
  if (!clientId || !clientSecret) return undefined;
  return createTokenClient({ issuer, clientId, clientSecret, scope: 'read' });
}

/**
 * Starts the orders service on `ORDERS_PORT` (default: `PORT` + 1, so 3001), trusting the issuer
 * `OAUTH_ISSUER` (default: the items service started before it). It opens no database. `GET /catalog`
 * calls the items service at `ITEMS_URL` (default: the one started before it) with its own token.
 *
 * @param {{ env?: Record<string, string | undefined>, print?: (line: string) => void, running?: { url?: string, issuer?: string, demo?: { clientId: string, clientSecret: string } }[] }} [context]
 */
async function start({ env = processEnvironment(), print = console.log, running = [] } = {}) {
  const host = env.HOST || '127.0.0.1';
  const auth = running.find((service) => service.issuer);
  const issuer = env.OAUTH_ISSUER || (auth && auth.issuer);
  if (!issuer) throw new Error('the orders service needs OAUTH_ISSUER or an items service started before it');
  const audience = ordersAudience(env);
  const port = ordersPort(env);
  if (port === undefined) throw new Error(`ORDERS_PORT (or PORT + 1) must be a port number, not ${JSON.stringify(env.ORDERS_PORT || env.PORT)}`);
  const itemsUrl = env.ITEMS_URL || (auth && auth.url);
  const client = itemsUrl ? itemsClient(issuer, env, auth && auth.demo) : undefined;
  const { app, resourceServer } = buildOrdersService({ issuer, audience, items: client && { url: itemsUrl, client } });
  const server = http.createServer(app);
  try {
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve(undefined));
    });
  } catch (err) {
    resourceServer.close();
    if (client) client.close();
    throw err;
  }
  const url = `http://localhost:${server.address().port}`;
  const close = async () => {
    resourceServer.close();
    if (client) client.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(() => resolve(undefined)));
  };

  print(`orders service listening on ${url} (no database; trusts ${issuer}, audience ${audience})`);
  print('  GET  /orders        needs scope read, a token for this audience');
  print('  POST /orders        needs scope write, a token for this audience');
  if (client) print(`  GET  /catalog       needs scope read; calls ${itemsUrl}/api/items with the orders service's own token`);
  else print('  (set ITEMS_URL, ORDERS_CLIENT_ID and ORDERS_CLIENT_SECRET for GET /catalog, which calls the items service)');
  print('');
  print('Get a token for the orders service and call it:');
  const demo = auth && auth.demo;
  for (const line of curlCommands(url, issuer, audience, demo && demo.clientId, demo && demo.clientSecret)) print(`  ${line}`);
  print('');
  return { name: 'orders service', url, server, close };
}

module.exports = { name: 'orders service', buildOrdersService, curlCommands, ordersAudience, ordersPort, start };

if (require.main === module) require('./start').run([module.exports]);
