// A resource service in "another process": no database, the issuer's metadata and JWKS over real HTTP on 127.0.0.1.
import express from 'express';
import request from 'supertest';
import jwt from 'jsonwebtoken';
import { createResourceServer, oauthErrorHandler, requireScope, closeDefaultOAuth, type ResourceServerOptions } from '../lib';
import { fakeClock, memoryLogger } from './helpers';
import { listen, startIssuer, type TestIssuer } from './remote-helpers';

const ORDERS = 'https://orders.internal';
const JWKS = '/.well-known/jwks.json';
const METADATA = '/.well-known/oauth-authorization-server';

let iss: TestIssuer;
const cleanups: (() => Promise<void> | void)[] = [];
beforeEach(async () => {
  iss = await startIssuer();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await iss.close();
});

/** An orders service on 127.0.0.1 guarded by a resource server for `iss`. */
async function ordersService(options: Partial<ResourceServerOptions> = {}) {
  const rs = createResourceServer({ issuer: iss.issuer, audience: ORDERS, logger: memoryLogger(), ...options });
  const app = express();
  app.get('/orders', rs.requireScope('read'), (req, res) => res.json({ clientId: req.auth?.clientId, scopes: req.auth?.scopes }));
  app.use(oauthErrorHandler());
  const http = await listen(app);
  cleanups.push(() => rs.close(), () => http.close());
  return { rs, get: (token: string) => request(http.url).get('/orders').auth(token, { type: 'bearer' }) };
}

async function ordersClient(options: { tokenFormat?: 'jwt' | 'reference'; scopes?: string } = {}) {
  const { client, clientSecret } = await iss.oauth.registry.create({
    name: 'orders caller',
    scopes: options.scopes ?? 'read',
    audiences: [ORDERS],
    ...(options.tokenFormat ? { tokenFormat: options.tokenFormat } : {}),
  });
  return { id: client.id, secret: clientSecret, token: () => iss.token(client.id, clientSecret, { resource: ORDERS }) };
}

const kidOf = (token: string) => (jwt.decode(token, { complete: true })?.header.kid as string);

describe('remote guard over JWKS', () => {
  it('verifies a token after fetching the metadata and the JWKS once, with no request to the issuer per request', async () => {
    const svc = await ordersService();
    const caller = await ordersClient();
    const token = await caller.token();
    for (let i = 0; i < 5; i++) {
      const res = await svc.get(token);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ clientId: caller.id, scopes: ['read'] });
    }
    expect(iss.hits.get(METADATA)).toBe(1);
    expect(iss.hits.get(JWKS)).toBe(1);
  });

  it('rejects a token for another audience with 401 invalid_token', async () => {
    const svc = await ordersService();
    const { client, clientSecret } = await iss.oauth.registry.create({ name: 'billing caller', scopes: 'read' });
    const token = await iss.token(client.id, clientSecret);
    const res = await svc.get(token);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_token', error_description: 'the access token is not meant for this audience' });
  });

  it('accepts a token issued for several resources at the guard of each (RFC 8707 §2)', async () => {
    const BILLING = 'https://billing.internal';
    const { client, clientSecret } = await iss.oauth.registry.create({ name: 'two apis', scopes: 'read', audiences: [ORDERS, BILLING] });
    const res = await request(iss.issuer).post('/oauth/token').auth(client.id, clientSecret).type('form')
      .send(`grant_type=client_credentials&resource=${encodeURIComponent(ORDERS)}&resource=${encodeURIComponent(BILLING)}`);
    expect(res.status).toBe(200);
    expect((await (await ordersService()).get(res.body.access_token)).status).toBe(200);
    expect((await (await ordersService({ audience: BILLING })).get(res.body.access_token)).status).toBe(200);
    expect((await (await ordersService({ audience: 'https://other.internal' })).get(res.body.access_token)).status).toBe(401);
    const service = await iss.oauth.registry.create({ name: 'billing service', scopes: 'oauth:introspect' });
    const introspecting = await ordersService({ audience: BILLING, introspection: { clientId: service.client.id, clientSecret: service.clientSecret, cacheTtl: 0 } });
    expect((await introspecting.get(res.body.access_token)).status).toBe(200);
  });

  it('keeps verifying with the last good keys when the issuer goes down after warm-up', async () => {
    const svc = await ordersService();
    const token = await (await ordersClient()).token();
    expect((await svc.get(token)).status).toBe(200);
    await iss.stop();
    expect((await svc.get(token)).status).toBe(200);
  });

  it('answers 503 temporarily_unavailable with Retry-After while the keys could never be fetched, and tries again only after jwksCooldown', async () => {
    const caller = await ordersClient();
    const token = await caller.token();
    iss.setFailing(true);
    const clock = fakeClock(Date.now() + 1000);
    const svc = await ordersService({ jwksCooldown: 3000, fetchTimeout: 1000, clock: clock.now });
    const res = await svc.get(token);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('3');
    expect(res.body).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'the token issuer could not be reached to fetch its signing keys',
    });
    expect(iss.hits.get(METADATA)).toBe(1);
    // Within the cooldown the next requests fail fast, without trying again.
    iss.setFailing(false);
    expect((await svc.get(token)).status).toBe(503);
    clock.advance(2999);
    expect((await svc.get(token)).status).toBe(503);
    expect(iss.hits.get(METADATA)).toBe(1);
    // Once it has passed, the next request tries again, and the issuer is back.
    clock.advance(1);
    expect((await svc.get(token)).status).toBe(200);
    expect(iss.hits.get(METADATA)).toBe(2);
  });

  it('refetches the JWKS once for a new kid, shared by every concurrent request (rotation, no stampede)', async () => {
    const clock = fakeClock(Date.now() + 1000);
    const svc = await ordersService({ jwksCooldown: 60_000, clock: clock.now });
    const caller = await ordersClient();
    const before = await caller.token();
    expect((await svc.get(before)).status).toBe(200);
    const { kid, previousKid } = await iss.oauth.server.rotateSigningKey();
    expect(previousKid).toBe(kidOf(before));
    const after = await caller.token();
    expect(kidOf(after)).toBe(kid);
    expect(kid).not.toBe(previousKid);
    // Past the cooldown since the warm-up fetch: the first request refetches at once, the others share it or find the key.
    clock.advance(60_000);
    const results = await Promise.all(Array.from({ length: 10 }, () => svc.get(after)));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(iss.hits.get(JWKS)).toBe(2);
    // The old key stays published until its tokens expire: the earlier token still works.
    expect((await svc.get(before)).status).toBe(200);
  });

  it('refetches at most once per cooldown: a new kid within it waits for its end, then is accepted (fake timers, injected clock)', async () => {
    const COOLDOWN = 300_000;
    const clock = fakeClock(Date.now() + 1000);
    jest.useFakeTimers({ doNotFake: ['Date', 'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'requestAnimationFrame', 'cancelAnimationFrame', 'requestIdleCallback', 'cancelIdleCallback', 'setImmediate', 'clearImmediate'] });
    try {
      const svc = await ordersService({ jwksCooldown: COOLDOWN, clock: clock.now });
      const caller = await ordersClient();
      const token = await caller.token();
      expect((await svc.get(token)).status).toBe(200);
      const [header, payload, signature] = token.split('.') as [string, string, string];
      const forge = (kid: string) =>
        [Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(header, 'base64url').toString()), kid })).toString('base64url'), payload, signature].join('.');
      // Past the cooldown: an unknown kid is refetched at once, and refused when the issuer does not have it either.
      clock.advance(COOLDOWN);
      expect((await svc.get(forge('unknown'))).body).toEqual({ error: 'invalid_token', error_description: 'the access token was signed with an unknown key' });
      expect(iss.hits.get(JWKS)).toBe(2);

      // Within the cooldown, a token with a just-rotated key waits for its end rather than failing.
      await iss.oauth.server.rotateSigningKey();
      const rotated = await caller.token();
      const timers = jest.getTimerCount();
      const waiting = svc.get(rotated).then((res) => res);
      // Bounded: the request reaches the guard, which schedules its wait for the cooldown's end.
      for (let i = 0; i < 10_000 && jest.getTimerCount() === timers; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(jest.getTimerCount()).toBe(timers + 1);
      expect(iss.hits.get(JWKS)).toBe(2);
      clock.advance(COOLDOWN);
      await jest.advanceTimersByTimeAsync(COOLDOWN);
      expect((await waiting).status).toBe(200);
      expect(iss.hits.get(JWKS)).toBe(3);
    } finally {
      jest.useRealTimers();
    }
  });

  it('refetches the JWKS in the background every jwksRefreshInterval, with no request asking (fake timers)', async () => {
    const INTERVAL = 300_000;
    const clock = fakeClock(Date.now() + 1000);
    jest.useFakeTimers({ doNotFake: ['Date', 'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'requestAnimationFrame', 'cancelAnimationFrame', 'requestIdleCallback', 'cancelIdleCallback', 'setImmediate', 'clearImmediate'] });
    try {
      const svc = await ordersService({ jwksRefreshInterval: INTERVAL, clock: clock.now });
      expect((await svc.get(await (await ordersClient()).token())).status).toBe(200);
      expect(iss.hits.get(JWKS)).toBe(1);
      clock.advance(INTERVAL - 1);
      await jest.advanceTimersByTimeAsync(INTERVAL - 1);
      expect(iss.hits.get(JWKS)).toBe(1);
      clock.advance(1);
      await jest.advanceTimersByTimeAsync(1);
      // Bounded: the refresh is a real request to the issuer.
      for (let i = 0; i < 10_000 && (iss.hits.get(JWKS) ?? 0) < 2; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(iss.hits.get(JWKS)).toBe(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('refuses metadata that names another issuer (RFC 8414 §3.3) with 503', async () => {
    const impostor = await listen((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ issuer: 'https://elsewhere.example', jwks_uri: `${iss.issuer}${JWKS}` }));
    });
    cleanups.push(() => impostor.close());
    const rs = createResourceServer({ issuer: impostor.url, audience: ORDERS, logger: memoryLogger() });
    cleanups.push(() => rs.close());
    await expect(rs.ready()).rejects.toThrow('the authorization server metadata names another issuer (RFC 8414 §3.3)');
    expect(iss.hits.get(JWKS)).toBeUndefined();
  });

  it('refuses a token whose key in the JWKS cannot be imported with 401, not 500', async () => {
    const impostor = await listen((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === JWKS) res.end(JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', kid: 'k', alg: 'ES256', use: 'sig', x: 'AA', y: 'AA' }] }));
      else res.end(JSON.stringify({ issuer: impostor.url, jwks_uri: `${impostor.url}${JWKS}` }));
    });
    cleanups.push(() => impostor.close());
    const rs = createResourceServer({ issuer: impostor.url, audience: ORDERS, logger: memoryLogger(), jwksCooldown: 100 });
    cleanups.push(() => rs.close());
    const app = express().get('/orders', rs.requireScope('read'), (_req, res) => res.json({})).use(oauthErrorHandler());
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const token = [
      part({ alg: 'ES256', typ: 'at+jwt', kid: 'k' }),
      part({ iss: impostor.url, aud: ORDERS, sub: 'c', jti: 'j', scope: 'read', iat: now, exp: now + 60 }),
      'c2lnbmF0dXJl',
    ].join('.');
    const res = await request(app).get('/orders').auth(token, { type: 'bearer' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_token', error_description: 'the access token was signed with an unknown key' });
  });

  it("rejects a reference token, saying opaque tokens need the guard's introspection option (not \"malformed\")", async () => {
    const svc = await ordersService();
    const token = await (await ordersClient({ tokenFormat: 'reference' })).token();
    const res = await svc.get(token);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      error: 'invalid_token',
      error_description: "the access token is opaque, not a JWT; this guard checks JWTs only (opaque tokens need the guard's introspection option)",
    });
    expect(JSON.stringify(res.body) + String(res.headers['www-authenticate'])).not.toContain(token);
  });

  it('does not see a revocation before the token expires (the JWKS trade-off)', async () => {
    const svc = await ordersService();
    const caller = await ordersClient();
    const token = await caller.token();
    await request(iss.issuer).post('/oauth/revoke').auth(caller.id, caller.secret).type('form').send({ token });
    expect((await svc.get(token)).status).toBe(200);
  });
});

describe('an issuer with a path (RFC 8414 §3.1)', () => {
  it('finds its metadata at /.well-known/oauth-authorization-server/<path> and accepts its tokens (RFC 8414 §3.1)', async () => {
    const tenant = await startIssuer({}, '/tenant');
    cleanups.push(() => tenant.close());
    const { client, clientSecret } = await tenant.oauth.registry.create({ name: 'tenant caller', scopes: 'read', audiences: [ORDERS] });
    const token = await tenant.token(client.id, clientSecret, { resource: ORDERS });
    const rs = createResourceServer({ issuer: tenant.issuer, audience: ORDERS, logger: memoryLogger() });
    const app = express();
    app.get('/orders', rs.requireScope('read'), (req, res) => res.json({ clientId: req.auth?.clientId }));
    app.use(oauthErrorHandler());
    const http = await listen(app);
    cleanups.push(() => rs.close(), () => http.close());
    const res = await request(http.url).get('/orders').auth(token, { type: 'bearer' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ clientId: client.id });
    expect(tenant.hits.get(`${METADATA}/tenant`)).toBe(1);
    expect(tenant.hits.get(`/tenant${JWKS}`)).toBe(1);
  });
});

describe('remote guard over introspection (RFC 7662)', () => {
  async function introspectingService(cacheTtl = 0) {
    const { client, clientSecret } = await iss.oauth.registry.create({ name: 'orders service', scopes: 'oauth:introspect' });
    return ordersService({ introspection: { clientId: client.id, clientSecret, cacheTtl } });
  }

  it('accepts an active JWT and sees its revocation', async () => {
    const svc = await introspectingService();
    const caller = await ordersClient();
    const token = await caller.token();
    expect((await svc.get(token)).body).toEqual({ clientId: caller.id, scopes: ['read'] });
    await request(iss.issuer).post('/oauth/revoke').auth(caller.id, caller.secret).type('form').send({ token });
    const res = await svc.get(token);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_token', error_description: 'the access token is not active' });
  });

  it('checks reference tokens end to end: issued, accepted, revoked, rejected', async () => {
    const svc = await introspectingService();
    const caller = await ordersClient({ tokenFormat: 'reference' });
    const token = await caller.token();
    expect(token).not.toContain('.');
    expect((await svc.get(token)).status).toBe(200);
    await request(iss.issuer).post('/oauth/revoke').auth(caller.id, caller.secret).type('form').send({ token });
    expect((await svc.get(token)).status).toBe(401);
  });

  it('reuses an active answer for cacheTtl seconds instead of asking again', async () => {
    const svc = await introspectingService(60);
    const token = await (await ordersClient()).token();
    for (let i = 0; i < 3; i++) expect((await svc.get(token)).status).toBe(200);
    expect(iss.hits.get('/oauth/introspect')).toBe(1);
  });

  it('asks again once cacheTtl has passed, so a revocation is seen within cacheTtl (injected clock)', async () => {
    const clock = fakeClock(Date.now());
    const { client, clientSecret } = await iss.oauth.registry.create({ name: 'orders service', scopes: 'oauth:introspect' });
    const svc = await ordersService({ clock: clock.now, introspection: { clientId: client.id, clientSecret, cacheTtl: 10 } });
    const caller = await ordersClient();
    const token = await caller.token();
    expect((await svc.get(token)).status).toBe(200);
    await iss.oauth.server.revokeToken(await iss.oauth.registry.get(caller.id), token);
    clock.advance(9_999);
    expect((await svc.get(token)).status).toBe(200);
    expect(iss.hits.get('/oauth/introspect')).toBe(1);
    clock.advance(1);
    const res = await svc.get(token);
    expect(res.body).toEqual({ error: 'invalid_token', error_description: 'the access token is not active' });
    expect(iss.hits.get('/oauth/introspect')).toBe(2);
  });

  it('reuses a refusal for cacheTtl seconds too, so a repeated bad token costs the issuer one request', async () => {
    const svc = await introspectingService(60);
    for (let i = 0; i < 3; i++) {
      const res = await svc.get('garbage-token');
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'invalid_token', error_description: 'the access token is not active' });
    }
    expect(iss.hits.get('/oauth/introspect')).toBe(1);
  });

  it('keeps at most cacheMax answers, dropping the oldest', async () => {
    const { client, clientSecret } = await iss.oauth.registry.create({ name: 'orders service', scopes: 'oauth:introspect' });
    const svc = await ordersService({ introspection: { clientId: client.id, clientSecret, cacheTtl: 60, cacheMax: 1 } });
    const caller = await ordersClient();
    const [a, b] = [await caller.token(), await caller.token()];
    for (const token of [a, a, b, a]) expect((await svc.get(token as string)).status).toBe(200);
    expect(iss.hits.get('/oauth/introspect')).toBe(3);
  });

  it('checks the audience of an introspected token', async () => {
    const svc = await introspectingService();
    const { client, clientSecret } = await iss.oauth.registry.create({ name: 'other', scopes: 'read' });
    const res = await svc.get(await iss.token(client.id, clientSecret));
    expect(res.body).toEqual({ error: 'invalid_token', error_description: 'the access token is not meant for this audience' });
  });

  it('answers 503 when the issuer refuses its credentials, without leaking why', async () => {
    const svc = await ordersService({ introspection: { clientId: 'nobody', clientSecret: 'wrong' } });
    const res = await svc.get(await (await ordersClient()).token());
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: 'the token issuer refused to introspect the token' });
  });
});

describe('requireScope with an issuer option (default instance)', () => {
  afterEach(() => closeDefaultOAuth());

  it('verifies another process\'s tokens with no database', async () => {
    const app = express();
    app.get('/orders', requireScope('read', { issuer: iss.issuer, audience: ORDERS }), (req, res) => res.json({ clientId: req.auth?.clientId }));
    app.use(oauthErrorHandler());
    const http = await listen(app);
    cleanups.push(() => http.close());
    const caller = await ordersClient();
    const res = await request(http.url).get('/orders').auth(await caller.token(), { type: 'bearer' });
    expect(res.body).toEqual({ clientId: caller.id });
  });

  it('refuses a remote guard without an audience when the route is defined', () => {
    expect(() => requireScope('read', { issuer: iss.issuer })).toThrow(
      new TypeError('a guard for a remote issuer needs its audience (RFC 9068 §4: aud must be checked)'),
    );
  });
});
