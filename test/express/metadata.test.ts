// Discovery (RFC 8414) and the JWKS (RFC 7517) served by tokenRouter().
import express from 'express';
import request from 'supertest';
import { buildApp, ISSUER, memoryLogger, type TestApp } from '../helpers';

let t: TestApp;
afterEach(() => t.close());

describe('authorization server metadata (RFC 8414)', () => {
  it('describes the endpoints under the configured issuer, with private_key_jwt and DPoP algorithms (RFC 8414 §2, RFC 7523 §2.2, RFC 9449 §5.1)', async () => {
    t = await buildApp({ scopesSupported: ['read', 'write'] });
    const res = await request(t.app).get('/.well-known/oauth-authorization-server');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('public, max-age=3600');
    const methods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];
    const algs = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'];
    expect(res.body).toEqual({
      issuer: ISSUER,
      token_endpoint: `${ISSUER}/oauth/token`,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
      grant_types_supported: ['client_credentials'],
      response_types_supported: [],
      token_endpoint_auth_methods_supported: methods,
      token_endpoint_auth_signing_alg_values_supported: algs,
      dpop_signing_alg_values_supported: algs,
      introspection_endpoint: `${ISSUER}/oauth/introspect`,
      introspection_endpoint_auth_methods_supported: methods,
      introspection_endpoint_auth_signing_alg_values_supported: algs,
      revocation_endpoint: `${ISSUER}/oauth/revoke`,
      revocation_endpoint_auth_methods_supported: methods,
      revocation_endpoint_auth_signing_alg_values_supported: algs,
      scopes_supported: ['read', 'write'],
    });
  });

  it('takes the issuer from configuration, never from the Host header (RFC 8414 §3.3)', async () => {
    t = await buildApp();
    const res = await request(t.app).get('/.well-known/oauth-authorization-server').set('Host', 'evil.example').set('X-Forwarded-Host', 'evil.example');
    expect(res.body.issuer).toBe(ISSUER);
    expect(JSON.stringify(res.body)).not.toContain('evil');
    expect(res.body).not.toHaveProperty('scopes_supported');
  });

  it('serves an issuer with a path at the well-known URI with the path appended (RFC 8414 §3.1)', async () => {
    t = await buildApp({ issuer: 'https://auth.test/tenant-a' });
    const res = await request(t.app).get('/.well-known/oauth-authorization-server/tenant-a');
    expect(res.status).toBe(200);
    expect(res.body.issuer).toBe('https://auth.test/tenant-a');
    expect(res.body.jwks_uri).toBe('https://auth.test/tenant-a/.well-known/jwks.json');
  });
});

describe('an issuer with a path (RFC 8414 §3.1)', () => {
  const PATH_ISSUER = 'https://auth.test/tenant-a';

  it('mounted at the root, serves the metadata at the host root and every endpoint at the URL the metadata names (RFC 8414 §3.1)', async () => {
    t = await buildApp({ issuer: PATH_ISSUER });
    const meta = await request(t.app).get('/.well-known/oauth-authorization-server/tenant-a');
    expect(meta.status).toBe(200);
    expect(meta.body.token_endpoint).toBe(`${PATH_ISSUER}/oauth/token`);
    // Not under the issuer's path, where a mount at the issuer's root used to put it.
    expect((await request(t.app).get('/tenant-a/.well-known/oauth-authorization-server/tenant-a')).status).toBe(404);
    expect((await request(t.app).get('/tenant-a/.well-known/jwks.json')).body.keys).toHaveLength(1);
    const { id, secret } = await t.createClient('read oauth:introspect');
    const token = await request(t.app).post('/tenant-a/oauth/token').auth(id, secret).type('form').send({ grant_type: 'client_credentials' });
    expect(token.status).toBe(200);
    const introspection = await request(t.app).post('/tenant-a/oauth/introspect').auth(id, secret).type('form').send({ token: token.body.access_token });
    expect(introspection.body).toMatchObject({ active: true, iss: PATH_ISSUER });
    // The endpoints live only under the issuer's path.
    expect((await request(t.app).post('/oauth/token').auth(id, secret).type('form').send({ grant_type: 'client_credentials' })).status).toBe(404);
  });

  it('mounted at the issuer path (the old way), keeps the endpoints working and says once why the metadata is missing', async () => {
    const logger = memoryLogger();
    t = await buildApp({ issuer: PATH_ISSUER, logger });
    const app = express();
    app.use('/tenant-a', t.oauth.tokenRouter());
    const { id, secret } = await t.createClient('read');
    for (let i = 0; i < 2; i++) {
      const res = await request(app).post('/tenant-a/oauth/token').auth(id, secret).type('form').send({ grant_type: 'client_credentials' });
      expect(res.status).toBe(200);
    }
    expect((await request(app).get('/tenant-a/.well-known/oauth-authorization-server/tenant-a')).status).toBe(404);
    const warnings = logger.lines.filter((l) => l.includes('mount it at the root'));
    expect(warnings).toEqual([
      'warn tokenRouter() is mounted at /tenant-a: mount it at the root (app.use(oauth.tokenRouter())), so that it can serve the metadata at /.well-known/oauth-authorization-server/tenant-a (RFC 8414 §3.1)',
    ]);
  });
});

describe('JWKS (RFC 7517)', () => {
  it('publishes only public key members, with kid, alg and use (RFC 7517 §4)', async () => {
    t = await buildApp();
    const res = await request(t.app).get('/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=60');
    expect(res.body.keys).toHaveLength(1);
    const [key] = res.body.keys;
    expect(Object.keys(key).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
  });

  it('publishes an ES256 key with its curve and no private member d', async () => {
    t = await buildApp({ signingAlgorithm: 'ES256' });
    const res = await request(t.app).get('/.well-known/jwks.json');
    expect(Object.keys(res.body.keys[0]).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(res.body.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
  });

  it('publishes the key that signs tokens', async () => {
    t = await buildApp();
    const { id, secret } = await t.createClient('read');
    const token = await t.tokenFor(id, secret);
    const kid = JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()).kid;
    const res = await request(t.app).get('/.well-known/jwks.json');
    expect(res.body.keys.map((k: { kid: string }) => k.kid)).toEqual([kid]);
  });
});
