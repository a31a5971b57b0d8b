// Audience restriction: RFC 8707 resource indicators at the token endpoint and the guard's audience check.
import express from 'express';
import request from 'supertest';
import jwt from 'jsonwebtoken';
import { oauthErrorHandler } from '../../lib';
import { buildApp, ISSUER, type TestApp } from '../helpers';

const ORDERS = 'https://orders.internal';
const BILLING = 'https://billing.internal';

let t: TestApp;
beforeEach(async () => {
  t = await buildApp();
});
afterEach(() => t.close());

async function clientFor(audiences: string[]) {
  const { client, clientSecret } = await t.oauth.registry.create({ name: 'svc', scopes: 'read', audiences });
  return { id: client.id, secret: clientSecret };
}

function tokenRequest(id: string, secret: string, form: Record<string, string>) {
  return request(t.app).post('/oauth/token').auth(id, secret).type('form').send({ grant_type: 'client_credentials', ...form });
}

function ordersApp() {
  const app = express();
  app.get('/orders', t.oauth.requireScope('read', { audience: ORDERS }), (req, res) => res.json({ aud: req.auth?.claims.aud }));
  app.use(oauthErrorHandler());
  return app;
}

describe('resource indicators (RFC 8707)', () => {
  it('sets aud to the requested resource when the client may have it (RFC 8707 §2)', async () => {
    const { id, secret } = await clientFor([ORDERS]);
    const res = await tokenRequest(id, secret, { resource: ORDERS });
    expect(res.status).toBe(200);
    expect(jwt.decode(res.body.access_token)).toMatchObject({ aud: ORDERS });
  });

  it('refuses a resource outside the client audiences with 400 invalid_target (RFC 8707 §2)', async () => {
    const { id, secret } = await clientFor([ORDERS]);
    const res = await tokenRequest(id, secret, { resource: BILLING });
    expect(res.status).toBe(400);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ error: 'invalid_target', error_description: 'the client may not get tokens for this resource' });
  });

  it('refuses a resource with a fragment (RFC 8707 §2)', async () => {
    const { id, secret } = await clientFor([ORDERS]);
    const res = await tokenRequest(id, secret, { resource: `${ORDERS}#x` });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_target', error_description: 'the resource parameter must not include a fragment (RFC 8707 section 2)' });
  });

  it('uses the instance audience without a resource parameter', async () => {
    const { id, secret } = await clientFor([ORDERS]);
    const res = await tokenRequest(id, secret, {});
    expect(jwt.decode(res.body.access_token)).toMatchObject({ aud: ISSUER });
  });

  it('lets a client request an audience granted through one of its groups', async () => {
    const { client, clientSecret } = await t.oauth.registry.create({ name: 'svc', scopes: 'read' });
    await t.oauth.groups.create({ name: 'ops', audiences: [BILLING] });
    await t.oauth.groups.addClient(client.id, 'ops');
    const res = await tokenRequest(client.id, clientSecret, { resource: BILLING });
    expect(res.status).toBe(200);
    expect(jwt.decode(res.body.access_token)).toMatchObject({ aud: BILLING });
  });
});

describe('several resources (RFC 8707 §2)', () => {
  const several = (id: string, secret: string, resources: string[]) =>
    request(t.app).post('/oauth/token').auth(id, secret).type('form')
      .send(['grant_type=client_credentials', ...resources.map((r) => `resource=${encodeURIComponent(r)}`)].join('&'));

  it('issues one token whose aud lists every requested resource, each accepted by its own guard (RFC 8707 §2)', async () => {
    const { id, secret } = await clientFor([ORDERS, BILLING]);
    const res = await several(id, secret, [ORDERS, BILLING, ORDERS]);
    expect(res.status).toBe(200);
    expect(jwt.decode(res.body.access_token)).toMatchObject({ aud: [ORDERS, BILLING] });
    const app = express();
    app.get('/orders', t.oauth.requireScope('read', { audience: ORDERS }), (req, res) => res.json({ aud: req.auth?.claims.aud }));
    app.get('/billing', t.oauth.requireScope('read', { audience: BILLING }), (req, res) => res.json({ aud: req.auth?.claims.aud }));
    app.get('/other', t.oauth.requireScope('read', { audience: 'https://other.internal' }), (_req, res) => res.json({}));
    app.use(oauthErrorHandler());
    for (const path of ['/orders', '/billing']) {
      const ok = await request(app).get(path).auth(res.body.access_token, { type: 'bearer' });
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ aud: [ORDERS, BILLING] });
    }
    expect((await request(app).get('/other').auth(res.body.access_token, { type: 'bearer' })).status).toBe(401);
  });

  it('refuses the whole request with invalid_target when one of the resources is not allowed (RFC 8707 §2)', async () => {
    const { id, secret } = await clientFor([ORDERS]);
    const res = await several(id, secret, [ORDERS, BILLING]);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_target', error_description: 'the client may not get tokens for this resource' });
    const fragment = await several(id, secret, [ORDERS, `${ORDERS}#x`]);
    expect(fragment.body).toEqual({ error: 'invalid_target', error_description: 'the resource parameter must not include a fragment (RFC 8707 section 2)' });
  });

  it('keeps a string aud when the repeats name one resource', async () => {
    const { id, secret } = await clientFor([ORDERS]);
    const res = await several(id, secret, [ORDERS, ORDERS]);
    expect(res.status).toBe(200);
    expect(jwt.decode(res.body.access_token)).toMatchObject({ aud: ORDERS });
  });

  it('introspects a token for several audiences with its aud array (RFC 7662 §2.2)', async () => {
    const { client, clientSecret } = await t.oauth.registry.create({ name: 'svc', scopes: 'read oauth:introspect', audiences: [ORDERS, BILLING], tokenFormat: 'reference' });
    const token = (await several(client.id, clientSecret, [ORDERS, BILLING])).body.access_token;
    const res = await request(t.app).post('/oauth/introspect').auth(client.id, clientSecret).type('form').send({ token });
    expect(res.body).toMatchObject({ active: true, aud: [ORDERS, BILLING] });
  });
});

describe('guard audience', () => {
  it('accepts a token minted for its audience', async () => {
    const { id, secret } = await clientFor([ORDERS]);
    const token = (await tokenRequest(id, secret, { resource: ORDERS })).body.access_token;
    const res = await request(ordersApp()).get('/orders').auth(token, { type: 'bearer' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ aud: ORDERS });
  });

  it('rejects a token minted for another API with 401 invalid_token (RFC 9068 §4)', async () => {
    const { id, secret } = await clientFor([BILLING]);
    const token = (await tokenRequest(id, secret, { resource: BILLING })).body.access_token;
    const res = await request(ordersApp()).get('/orders').auth(token, { type: 'bearer' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_token', error_description: 'the access token is not meant for this audience' });
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="oauth", error="invalid_token", error_description="the access token is not meant for this audience"',
    );
  });
});

describe('guard options', () => {
  it('refuses an instance guard naming another issuer when the route is defined', () => {
    expect(() => t.oauth.requireScope('read', { issuer: 'https://other.example' })).toThrow(
      new TypeError("this guard verifies its own instance's tokens; for another issuer use createResourceServer()"),
    );
  });
});
