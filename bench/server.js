// One benchmark server per process: builds the app of one case (ours or a peer's), reports its port, event-loop delay and peak RSS over IPC.
'use strict';
const { createPublicKey, randomBytes } = require('node:crypto');
const { createRequire } = require('node:module');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
/** Every case uses the library's Express (5.x), not the 4.x a peer's peer dependency pulled into bench/peers. */
const express = require(require.resolve('express', { paths: [ROOT] }));
/** `BENCH_DIST=dir` serves another build (A/B two builds in one session, alternating); default dist/. */
const DIST = process.env.BENCH_DIST ? path.resolve(process.env.BENCH_DIST) : path.join(ROOT, 'dist');
const lib = require(DIST);
const { SqliteStore } = require(path.join(DIST, 'store', 'sqlite'));
/** The peers are installed apart, in bench/peers (see bench/README.md). */
const peer = createRequire(path.join(__dirname, 'peers', 'package.json'));

const config = JSON.parse(process.env.BENCH_CONFIG);
const { issuer } = config;
const items = (_req, res) => res.json({ items: [] });

/**
 * With `countCredentials`, every request's Authorization header is recorded before the app sees it,
 * warm-up included, so the run can check that no client id reached the server twice.
 */
const credentials = { requests: 0, distinct: new Set() };
function countCredentials(app) {
  app.use((req, _res, next) => {
    credentials.requests++;
    credentials.distinct.add(req.headers.authorization);
    next();
  });
}

/** `tokenPool` RS256 tokens from `oauth` for `clientId`, signed a few at a time (on the thread pool). */
async function mintPool(oauth, clientId, size) {
  const client = await oauth.server.findClient(clientId);
  const tokens = [];
  while (tokens.length < size) {
    const batch = Array.from({ length: Math.min(64, size - tokens.length) }, () =>
      oauth.server.issueToken(client, { grant_type: 'client_credentials', scope: 'read' }),
    );
    for (const t of await Promise.all(batch)) tokens.push(t.access_token);
  }
  return tokens;
}

/** How the peers sign: jsonwebtoken, synchronously, from a KeyObject (the fast way to use it). */
function peerSigner(jwt, key) {
  return (clientId, scope) =>
    jwt.sign(
      { iss: issuer, sub: clientId, client_id: clientId, aud: issuer, scope, jti: randomBytes(16).toString('base64url') },
      key.privateKey,
      { algorithm: 'RS256', keyid: key.kid, expiresIn: 3600, header: { alg: 'RS256', typ: 'at+jwt', kid: key.kid } },
    );
}

/** The peers' client lookup: the same SQLite store, one bcrypt comparison per request (cost 10 hashes). */
function peerVerify(store, bcrypt) {
  return async (id, secret) => {
    const client = await store.getClient(id);
    const hash = client?.secrets[0]?.hash;
    return client && hash && (await bcrypt.compare(secret, hash)) ? client : false;
  };
}

async function peerContext() {
  const store = SqliteStore.open(config.database);
  const key = await lib.createOAuth({ ...(await ourOptions()), store }).server.keys.getSigner();
  return { store, key, jwt: require('jsonwebtoken'), bcrypt: require('bcrypt') };
}

async function ourOptions() {
  return { issuer, database: config.database, bcryptCost: 10, logger: { warn() {}, error() {} }, ...(config.options ?? {}) };
}

const CASES = {
  async bare(app) {
    app.get('/api/items', items);
  },

  // The floors of a guard written as a route middleware: Express dispatching one more handler, and
  // that handler setting req.auth (a property added to a request whose hidden class Express 5 has
  // detached with setPrototypeOf: a new map and descriptor array, every request).
  async 'bare-noop'(app) {
    app.get('/api/items', (_req, _res, next) => next(), items);
  },

  async 'bare-auth'(app) {
    const auth = Object.freeze({ clientId: 'floor', scopes: Object.freeze(['read']), claims: Object.freeze({}) });
    app.get('/api/items', (req, _res, next) => {
      req.auth = auth;
      next();
    }, items);
  },

  // The least any RFC 6750 guard does before it can trust a token, with no verification at all: find
  // the only Authorization header, look for a token in the URI (§2 / RFC 9700 §2.4), set req.auth.
  // Express 5 gives every request a hidden class of its own (see bench/README.md), so each property a
  // middleware reads from req is an inline-cache miss: this case pays the same two reads ours does.
  async 'bare-auth-read'(app) {
    const auth = Object.freeze({ clientId: 'floor', scopes: Object.freeze(['read']), claims: Object.freeze({}) });
    app.get('/api/items', (req, _res, next) => {
      let header;
      const raw = req.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 13 && raw[i].toLowerCase() === 'authorization') header = raw[i + 1];
      if (header === undefined || !header.startsWith('Bearer ') || req.originalUrl.includes('?')) return next(new Error('floor: no token'));
      req.auth = auth;
      next();
    }, items);
  },

  // The same floor in a process that also runs an authorization server it never calls (the store
  // open, its change watcher polling): what having the library in the process costs a route.
  async 'bare-auth-lib'(app) {
    lib.createOAuth(await ourOptions());
    return CASES['bare-auth'](app);
  },

  // The reading floor in a process that holds what the in-process guard's process holds: an
  // instance that has issued a token and verified it once (its caches warm), but not on this route.
  async 'bare-auth-read-lib'(app) {
    const oauth = lib.createOAuth(await ourOptions());
    const client = await oauth.server.findClient(config.clientId);
    const { access_token: token } = await oauth.server.issueToken(client, { grant_type: 'client_credentials', scope: 'read' });
    await oauth.server.verifyAccessToken(token, { audience: [issuer] });
    return CASES['bare-auth-read'](app);
  },

  // The baseline of the token cases: a POST whose urlencoded form body is parsed, then a JSON answer.
  async 'bare-post'(app) {
    app.post('/oauth/token', express.urlencoded({ extended: false }), (req, res) => res.json({ grant_type: req.body.grant_type }));
  },

  // The ceiling of an Express token endpoint (issue 16.2): the same form parsed, a JWT of the same
  // claims as ours signed by the library's own signJws (same key, same node:crypto call, same place:
  // pool or in place), answered with ours' headers; no client authentication, no grant decisions.
  async 'bare-post-signed'(app) {
    const { signJws } = require(path.join(DIST, 'core', 'tokens', 'jws'));
    const { newTokenIdAt } = require(path.join(DIST, 'core', 'issuing', 'issuance-time'));
    const oauth = lib.createOAuth(await ourOptions());
    const key = await oauth.server.keys.getSigner();
    const header = { alg: key.alg, typ: 'at+jwt', kid: key.kid };
    app.post('/oauth/token', express.urlencoded({ extended: false }), (req, res, next) => {
      const nowMs = Date.now();
      const iat = Math.floor(nowMs / 1000);
      const { client_id: id, scope } = req.body;
      const claims = { iss: issuer, sub: id, client_id: id, aud: issuer, scope, iat, exp: iat + 3600, jti: newTokenIdAt(nowMs) };
      signJws(header, claims, key.privateKey).then((accessToken) => {
        res.set('Cache-Control', 'no-store').set('Pragma', 'no-cache');
        res.status(200).json({ access_token: accessToken, token_type: 'Bearer', expires_in: 3600, scope });
      }, next);
    });
  },

  async 'ours-token'(app) {
    const oauth = lib.createOAuth(await ourOptions());
    if (config.countCredentials) countCredentials(app);
    app.use(oauth.tokenRouter());
  },

  async 'ours-guard'(app) {
    const oauth = lib.createOAuth(await ourOptions());
    app.get('/api/items', oauth.requireScope('read'), items);
  },

  // As the example app and the README set it up: the token router mounted at the root, then the
  // guarded routes, so every API request first passes through the token router's routes.
  async 'ours-guard-after-token-router'(app) {
    const oauth = lib.createOAuth(await ourOptions());
    app.use(oauth.tokenRouter());
    app.get('/api/items', oauth.requireScope('read'), items);
  },

  // The remote guard (createResourceServer): the issuer's routes live in this process too, so its
  // metadata and JWKS are fetched once over loopback; tokens carry this server's URL as iss and aud.
  async 'ours-remote-guard'(app, port) {
    const issuerUrl = `http://127.0.0.1:${port()}`;
    const oauth = lib.createOAuth({ ...(await ourOptions()), issuer: issuerUrl });
    app.use(oauth.tokenRouter());
    // `fetchTimeout`: bench/instructions.js runs this under valgrind, where the loopback fetch is slow.
    const resourceServer = lib.createResourceServer({
      issuer: issuerUrl,
      audience: issuerUrl,
      logger: { warn() {}, error() {} },
      ...(config.fetchTimeout ? { fetchTimeout: config.fetchTimeout } : {}),
    });
    app.get('/api/items', resourceServer.requireScope('read'), items);
    await resourceServer.ready();
    if (config.tokenPool) return { tokens: await mintPool(oauth, config.clientId, config.tokenPool) };
    return { token: (await mintPool(oauth, config.clientId, 1))[0] };
  },

  // node-oidc-provider (ESM, imported dynamically) with its defaults for this grant: the client's
  // plain secret compared as stored, RS256 JWT access tokens for a default resource. Mounted alone,
  // as its own app would be; the token path is set to ours so the request is the same.
  async 'oidc-provider'(app) {
    const { default: Provider } = await import('oidc-provider');
    const { generateKeyPairSync } = require('node:crypto');
    const jwk = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'bench', alg: 'RS256', use: 'sig' };
    const resource = 'urn:bench:api';
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: config.clientId,
          client_secret: config.clientSecret,
          grant_types: ['client_credentials'],
          redirect_uris: [],
          response_types: [],
          scope: 'read write',
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      jwks: { keys: [jwk] },
      scopes: ['read', 'write'],
      routes: { token: '/oauth/token' },
      features: {
        clientCredentials: { enabled: true },
        devInteractions: { enabled: false },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => resource,
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({ scope: 'read write', audience: resource, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }),
        },
      },
    });
    app.use(provider.callback());
  },

  async oauth2orize(app) {
    const oauth2orize = peer('oauth2orize');
    const { Passport } = require('passport');
    const { BasicStrategy } = require('passport-http');
    const ClientPasswordStrategy = require('passport-oauth2-client-password').Strategy;
    const { store, key, jwt, bcrypt } = await peerContext();
    const sign = peerSigner(jwt, key);
    const verify = peerVerify(store, bcrypt);
    const done = (id, secret, cb) => verify(id, secret).then((c) => cb(null, c), cb);
    const passport = new Passport();
    passport.use(new BasicStrategy(done));
    passport.use(new ClientPasswordStrategy(done));
    const server = oauth2orize.createServer();
    server.exchange(
      oauth2orize.exchange.clientCredentials((client, scope, cb) => {
        cb(null, sign(client.id, (scope ?? client.scopes).join(' ')), null, { expires_in: 3600 });
      }),
    );
    app.post(
      '/oauth/token',
      express.urlencoded({ extended: false }),
      passport.authenticate(['basic', 'oauth2-client-password'], { session: false }),
      server.token(),
      server.errorHandler(),
    );
  },

  async 'node-oauth'(app) {
    const OAuth2Server = peer('@node-oauth/oauth2-server');
    const { store, key, jwt, bcrypt } = await peerContext();
    const sign = peerSigner(jwt, key);
    const verify = peerVerify(store, bcrypt);
    const oauth = new OAuth2Server({
      accessTokenLifetime: 3600,
      model: {
        async getClient(id, secret) {
          const client = await verify(id, secret);
          return client ? { id: client.id, grants: ['client_credentials'], scopes: client.scopes } : false;
        },
        async getUserFromClient(client) {
          return { id: client.id };
        },
        async validateScope(_user, client, scope) {
          return scope ?? client.scopes;
        },
        async generateAccessToken(client, _user, scope) {
          return sign(client.id, scope.join(' '));
        },
        async saveToken(token, client, user) {
          return { ...token, client, user };
        },
      },
    });
    app.post('/oauth/token', express.urlencoded({ extended: false }), async (req, res) => {
      const response = new OAuth2Server.Response(res);
      try {
        await oauth.token(new OAuth2Server.Request(req), response);
      } catch {
        // the response already carries the error status and body
      }
      res.set(response.headers).status(response.status).send(response.body);
    });
  },

  async 'jwt-bearer'(app, port) {
    const { auth, requiredScopes } = peer('express-oauth2-jwt-bearer');
    app.get('/jwks', (_req, res) => res.json({ keys: config.jwks }));
    app.get('/api/items', auth({ issuer, audience: issuer, jwksUri: `http://127.0.0.1:${port()}/jwks` }), requiredScopes('read'), items);
  },

  async 'express-jwt'(app) {
    const { expressjwt } = peer('express-jwt');
    const jwtAuthz = peer('express-jwt-authz');
    const secret = createPublicKey({ key: config.jwks[0], format: 'jwk' });
    app.get(
      '/api/items',
      expressjwt({ secret, algorithms: ['RS256'], issuer, audience: issuer }),
      jwtAuthz(['read'], { customUserKey: 'auth', failWithError: true }),
      items,
    );
  },
};

/**
 * Uses up the address failure limit of each of `addresses` (loopback addresses this process binds its
 * requests to): wrong secrets with a space in them, which fail without a bcrypt comparison but count,
 * until the server answers 429. Then every request from that address is refused by the limit.
 */
async function exhaust(port, addresses) {
  const http = require('node:http');
  // A new id each time: the per-client limit must not answer 429 before the address's has.
  let n = 0;
  const send = (localAddress) =>
    new Promise((resolve, reject) => {
      const authorization = `Basic ${Buffer.from(`exhaust-${n++}:not%20a%20secret`).toString('base64')}`;
      const req = http.request(
        { host: '127.0.0.1', port, localAddress, method: 'POST', path: '/oauth/token', agent: false, headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        },
      );
      req.on('error', reject);
      req.end('grant_type=client_credentials');
    });
  for (const address of addresses) {
    let status;
    for (let i = 0; i < 10_000 && status !== 429; i++) status = await send(address);
    if (status !== 429) throw new Error(`could not use up the failure limit of ${address}`);
  }
}

/** Builds one case on its own app and port; every request it serves is counted in `counts`. */
async function serve(name, counts) {
  const build = CASES[name];
  if (!build) throw new Error(`unknown server ${name}`);
  const app = express();
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address();
  // Routes are added after listen() so a guard can be pointed at this server's own JWKS route.
  const extra = await build(app, () => port);
  server.on('request', (_req, res) => {
    counts.active++;
    res.once('close', () => {
      counts.active--;
      counts.served++;
    });
  });
  return { server, port, extra };
}

/**
 * One case per process (`config.server`), or with `config.servers` several in one process, each on
 * its own port: routes of one service, sharing its heap, its library and its event loop.
 */
async function main() {
  const counts = { active: 0, served: 0 };
  const names = config.servers ?? [config.server];
  const serving = [];
  for (const name of names) serving.push({ name, ...(await serve(name, counts)) });
  if (config.exhaust) await exhaust(serving[0].port, config.exhaust);

  /** CPU time of the whole process (every thread: the loop and the pool) over the measured window. */
  let cpuAtStart;
  let servedAtStart = 0;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  process.on('message', (msg) => {
    if (msg === 'drain') {
      const check = () => (counts.active === 0 ? process.send({ type: 'drained' }) : setTimeout(check, 20));
      check();
    } else if (msg === 'measure') {
      delay.reset();
      delay.enable();
      cpuAtStart = process.cpuUsage();
      servedAtStart = counts.served;
    } else if (msg === 'stats') {
      delay.disable();
      const cpu = process.cpuUsage(cpuAtStart);
      const ms = (ns) => Math.round((ns / 1e6) * 100) / 100;
      process.send({
        type: 'stats',
        eventLoopDelay: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
        peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
        // CPU per response: unlike req/s, barely moved by other processes sharing the core.
        cpuUsPerRequest: Math.round(((cpu.user + cpu.system) / Math.max(1, counts.served - servedAtStart)) * 10) / 10,
        ...(config.countCredentials ? { credentials: { requests: credentials.requests, distinct: credentials.distinct.size } } : {}),
      });
    } else if (msg === 'stop') {
      for (const { server } of serving) server.close();
      process.exit(0);
    }
  });
  if (config.servers) process.send({ type: 'ready', servers: serving.map(({ name, port, extra }) => ({ name, port, ...extra })) });
  else process.send({ type: 'ready', port: serving[0].port, ...serving[0].extra });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
