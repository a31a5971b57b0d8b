// Token endpoint behaviour (RFC 6749 §4.4, §5): the happy path and the first error rows.
import request from 'supertest';
import jwt from 'jsonwebtoken';
import { createPublicKey } from 'node:crypto';
import { buildApp, ISSUER, type TestApp } from '../helpers';

let t: TestApp;
beforeEach(async () => {
  t = await buildApp();
});
afterEach(() => t.close());

describe('token endpoint', () => {
  it('issues an RFC 9068 access token for a client authenticated with HTTP Basic (RFC 6749 §4.4)', async () => {
    const { id, secret } = await t.createClient('read write');
    const res = await request(t.app).post('/oauth/token').auth(id, secret).type('form').send({ grant_type: 'client_credentials', scope: 'read' });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['pragma']).toBe('no-cache');
    expect(Object.keys(res.body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'read' });

    const [key] = await t.oauth.server.keys.publicJwks();
    const decoded = jwt.verify(res.body.access_token, createPublicKey({ key: key as never, format: 'jwk' }), {
      algorithms: ['RS256'],
      complete: true,
    });
    expect(decoded.header).toMatchObject({ typ: 'at+jwt', alg: 'RS256', kid: key?.kid });
    expect(decoded.payload).toMatchObject({ iss: ISSUER, sub: id, client_id: id, aud: ISSUER, scope: 'read' });
  });

  it('rejects a wrong secret with 401 invalid_client and a Basic challenge (RFC 6749 §5.2)', async () => {
    const { id } = await t.createClient();
    const res = await request(t.app).post('/oauth/token').auth(id, 'wrong-secret').type('form').send({ grant_type: 'client_credentials' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
    expect(res.headers['www-authenticate']).toBe('Basic realm="oauth", charset="UTF-8"');
  });
});
