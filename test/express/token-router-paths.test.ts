// tokenRouter() at the root hands every request outside its own paths straight on, and still answers its paths in every form Express routing accepts.
import express from 'express';
import request from 'supertest';
import { buildApp, ISSUER, type TestApp } from '../helpers';

let t: TestApp;
beforeEach(async () => {
  t = await buildApp({ signingAlgorithm: 'ES256' });
});
afterEach(async () => t.close());

describe('tokenRouter() paths', () => {
  it('leaves a request for another path untouched: no body read, no headers set', async () => {
    const app = express();
    app.use(t.oauth.tokenRouter());
    app.post('/api/echo', express.text({ type: '*/*' }), (req, res) => res.json({ body: req.body as unknown, cacheControl: res.getHeader('cache-control') ?? null }));
    const res = await request(app).post('/api/echo').type('form').send('grant_type=client_credentials');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ body: 'grant_type=client_credentials', cacheControl: null });
  });

  it('answers its paths with a trailing slash, in another case and with a query, as Express routing does', async () => {
    const { id, secret } = await t.createClient();
    for (const path of ['/oauth/token/', '/OAuth/Token', '/oauth/token?x=1']) {
      const res = await request(t.app).post(path).auth(id, secret).type('form').send({ grant_type: 'client_credentials' });
      expect(res.status).toBe(200);
    }
    expect((await request(t.app).get('/.well-known/jwks.json')).status).toBe(200);
    expect((await request(t.app).get('/.well-known/oauth-authorization-server')).body.issuer).toBe(ISSUER);
  });

  it('serves the metadata ahead of the token endpoint configured at its URL, where a refused address gets it too (RFC 8414 §3)', async () => {
    const odd = await buildApp({ tokenPath: '/.well-known/oauth-authorization-server', addressFailureLimit: 1, clientFailureLimit: 0, refusalDelay: 0 });
    try {
      const post = () =>
        request(odd.app).post('/.well-known/oauth-authorization-server').auth('guess', 'wrong-secret').type('form').send({ grant_type: 'client_credentials' });
      expect((await post()).status).toBe(401);
      expect((await post()).status).toBe(429);
      const meta = await request(odd.app).get('/.well-known/oauth-authorization-server').auth('guess', 'wrong-secret');
      expect(meta.status).toBe(200);
      expect(meta.body.token_endpoint).toBe(`${ISSUER}/.well-known/oauth-authorization-server`);
    } finally {
      await odd.close();
    }
  });

  it('serves the endpoints under an issuer path', async () => {
    const tenant = await buildApp({ issuer: `${ISSUER}/tenant`, signingAlgorithm: 'ES256' });
    try {
      const { id, secret } = await tenant.createClient();
      const res = await request(tenant.app).post('/tenant/oauth/token').auth(id, secret).type('form').send({ grant_type: 'client_credentials' });
      expect(res.status).toBe(200);
      expect((await request(tenant.app).get('/.well-known/oauth-authorization-server/tenant')).status).toBe(200);
      expect((await request(tenant.app).get('/tenant/.well-known/jwks.json')).status).toBe(200);
    } finally {
      await tenant.close();
    }
  });
});
