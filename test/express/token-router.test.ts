// Token endpoint behaviour (RFC 6749 §2.3, §3.2, §4.4, §5; RFC 9068): every row of issue 2.
import request from 'supertest';
import jwt from 'jsonwebtoken';
import bcrypt from 'bcrypt';
import express from 'express';
import { createPublicKey } from 'node:crypto';
import Database from 'better-sqlite3';
import { createOAuth } from '../../lib';
import { type AuditEvent, type PublicJwk } from '../../lib/core';
import { buildApp, ISSUER, memoryLogger, type TestApp } from '../helpers';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };
const CHALLENGE = 'Basic realm="oauth", charset="UTF-8"';
const GRANT = { grant_type: 'client_credentials' };

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined for Basic. */
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}
function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${formEncode(id)}:${formEncode(secret)}`).toString('base64')}`;
}
function rawBasic(bytes: Buffer | string): string {
  return `Basic ${Buffer.from(bytes).toString('base64')}`;
}

function verifyWith(jwk: PublicJwk, token: string) {
  return jwt.verify(token, createPublicKey({ key: jwk as never, format: 'jwk' }), { algorithms: [jwk.alg], complete: true });
}

let t: TestApp;
beforeEach(async () => {
  t = await buildApp();
});
afterEach(() => t.close());

function post(path = '/oauth/token') {
  return request(t.app).post(path);
}

/** Asserts an RFC 6749 §5.2 error response: status, exact body, no-store headers. */
function expectError(res: request.Response, status: number, error: string, description: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.headers).toMatchObject(NO_STORE);
  expect(res.body).toEqual({ error, error_description: description });
}

describe('token endpoint', () => {
  describe('successful response (RFC 6749 §5.1, RFC 9068)', () => {
    it('issues an RFC 9068 access token for a client authenticated with HTTP Basic (RFC 6749 §4.4)', async () => {
      const { id, secret } = await t.createClient('read write');
      const res = await post().auth(id, secret).type('form').send({ ...GRANT, scope: 'read' });
      expect(res.status).toBe(200);
      expect(res.headers).toMatchObject(NO_STORE);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(Object.keys(res.body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
      expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'read' });

      const [key] = await t.oauth.server.keys.publicJwks();
      const decoded = verifyWith(key as PublicJwk, res.body.access_token);
      expect(decoded.header).toEqual({ typ: 'at+jwt', alg: 'RS256', kid: key?.kid });
      const payload = decoded.payload as jwt.JwtPayload;
      expect(Object.keys(payload).sort()).toEqual(['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub']);
      expect(payload).toMatchObject({ iss: ISSUER, sub: id, client_id: id, aud: ISSUER, scope: 'read' });
      expect(payload.exp).toBe((payload.iat as number) + 3600);
      expect(typeof payload.jti).toBe('string');
    });

    it('answers with no validator to revalidate, since the response must not be stored (RFC 6749 §5.1, RFC 9111 §5.2.2.5)', async () => {
      const { id, secret } = await t.createClient('read');
      const res = await post().auth(id, secret).type('form').send(GRANT);
      expect(res.status).toBe(200);
      expect(res.headers.etag).toBeUndefined();
      expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.text));
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      const refused = await post().auth(id, 'wrong').type('form').send(GRANT);
      expect(refused.status).toBe(401);
      expect(refused.headers.etag).toBeUndefined();
      expect(Number(refused.headers['content-length'])).toBe(Buffer.byteLength(refused.text));
    });

    it('authenticates a client by client_id and client_secret in the form body (RFC 6749 §2.3.1)', async () => {
      const { id, secret } = await t.createClient('read');
      const res = await post().type('form').send({ ...GRANT, client_id: id, client_secret: secret });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ token_type: 'Bearer', scope: 'read' });
    });

    it('form-decodes Basic credentials holding reserved characters (RFC 6749 §2.3.1)', async () => {
      const id = 'svc a:b/é+';
      const secret = 'p@ss:w%rd+/&=?é'.replace('é', 'e');
      await t.oauth.server.store.createClient(
        { id, name: 'reserved', scopes: ['read'], audiences: [], grantTypes: ['client_credentials'], tokenFormat: 'jwt', secretHash: await bcrypt.hash(secret, 4) },
        Date.now(),
      );
      const res = await post().set('Authorization', basic(id, secret)).type('form').send(GRANT);
      expect(res.status).toBe(200);
      const payload = jwt.decode(res.body.access_token) as jwt.JwtPayload;
      expect(payload.sub).toBe(id);
    });

    it('accepts the Basic scheme in any case and followed by several spaces (RFC 7235 §2.1)', async () => {
      const { id, secret } = await t.createClient('read');
      const credentials = Buffer.from(`${id}:${secret}`).toString('base64');
      for (const header of [`basic ${credentials}`, `BASIC ${credentials}`, `Basic   ${credentials}`]) {
        const res = await post().set('Authorization', header).type('form').send(GRANT);
        expect(res.status).toBe(200);
      }
    });

    it('treats an empty scope parameter as omitted (RFC 6749 §3.1)', async () => {
      const { id, secret } = await t.createClient('read write');
      const res = await post().auth(id, secret).type('form').send('grant_type=client_credentials&scope=');
      expect(res.status).toBe(200);
      expect(res.body.scope).toBe('read write');
    });

    it('grants every allowed scope when the request has no scope parameter, and says so (RFC 6749 §3.3)', async () => {
      const { id, secret } = await t.createClient('read write admin');
      const res = await post().auth(id, secret).type('form').send(GRANT);
      expect(res.status).toBe(200);
      expect(res.body.scope).toBe('read write admin');
      expect((jwt.decode(res.body.access_token) as jwt.JwtPayload).scope).toBe('read write admin');
    });

    it('grants a requested subset of the allowed scopes and states it (RFC 6749 §5.1)', async () => {
      const { id, secret } = await t.createClient('read write admin');
      const res = await post().auth(id, secret).type('form').send({ ...GRANT, scope: 'admin read' });
      expect(res.status).toBe(200);
      expect(res.body.scope).toBe('admin read');
    });

    it('never issues a refresh token (RFC 6749 §4.4.3)', async () => {
      const { id, secret } = await t.createClient('read');
      const res = await post().auth(id, secret).type('form').send(GRANT);
      expect(res.status).toBe(200);
      expect(res.body).not.toHaveProperty('refresh_token');
    });

    it('accepts a bare client_id in the body that names the Basic-authenticated client (RFC 6749 §3.2.1)', async () => {
      const { id, secret } = await t.createClient('read');
      const res = await post().auth(id, secret).type('form').send({ ...GRANT, client_id: id });
      expect(res.status).toBe(200);
    });

    it('works when the host app parsed the form body before the token router', async () => {
      const { id, secret } = await t.createClient('read');
      const app = express();
      app.use(express.urlencoded({ extended: false }));
      app.use(t.oauth.tokenRouter());
      const res = await request(app).post('/oauth/token').auth(id, secret).type('form').send({ ...GRANT, scope: 'read' });
      expect(res.status).toBe(200);
      expect(res.body.scope).toBe('read');
    });

    it("leaves the host app's request without Passport's session helpers: Passport authenticates a view of it", async () => {
      const { id, secret } = await t.createClient('read');
      const seen: express.Request[] = [];
      const events: AuditEvent[] = [];
      t.oauth.events.on('audit', (e: AuditEvent) => events.push(e));
      const app = express();
      app.use((req, _res, next) => {
        seen.push(req);
        next();
      });
      app.use(t.oauth.tokenRouter());
      const basicRes = await request(app).post('/oauth/token').auth(id, secret).type('form').send({ ...GRANT, scope: 'read' });
      const bodyRes = await request(app).post('/oauth/token').type('form').send({ ...GRANT, client_id: id, client_secret: secret });
      const wrong = await request(app).post('/oauth/token').auth(id, 'wrong').type('form').send(GRANT);
      expect([basicRes.status, bodyRes.status, wrong.status]).toEqual([200, 200, 401]);
      expect(seen).toHaveLength(3);
      for (const req of seen) {
        for (const helper of ['login', 'logIn', 'logout', 'logOut', 'isAuthenticated', 'isUnauthenticated', '_sessionManager', 'user']) {
          expect({ helper, own: Object.hasOwn(req, helper) }).toEqual({ helper, own: false });
        }
      }
      // The failure was still charged to the address the request came from (the view carries it).
      const failed = events.filter((e) => e.type === 'client.authentication_failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ clientId: id, address: expect.stringMatching(/127\.0\.0\.1$/) });
    });

    it('serves the token endpoint on a configured path', async () => {
      const custom = await buildApp({ tokenPath: '/token' });
      try {
        const { id, secret } = await custom.createClient('read');
        const res = await request(custom.app).post('/token').auth(id, secret).type('form').send(GRANT);
        expect(res.status).toBe(200);
        expect((await request(custom.app).post('/oauth/token').auth(id, secret).type('form').send(GRANT)).status).toBe(404);
      } finally {
        await custom.close();
      }
    });

    it('honours the accessTokenLifetime option in expires_in and exp', async () => {
      const short = await buildApp({ accessTokenLifetime: 300 });
      try {
        const { id, secret } = await short.createClient('read');
        const res = await request(short.app).post('/oauth/token').auth(id, secret).type('form').send(GRANT);
        expect(res.body.expires_in).toBe(300);
        const payload = jwt.decode(res.body.access_token) as jwt.JwtPayload;
        expect((payload.exp as number) - (payload.iat as number)).toBe(300);
      } finally {
        await short.close();
      }
    });
  });

  describe('request errors (RFC 6749 §5.2)', () => {
    it('answers a missing grant_type with invalid_request (RFC 6749 §4.4.2)', async () => {
      const { id, secret } = await t.createClient();
      const res = await post().auth(id, secret).type('form').send({ scope: 'read' });
      expectError(res, 400, 'invalid_request', 'the grant_type parameter is missing');
    });

    it('answers any other grant type with unsupported_grant_type (RFC 6749 §5.2)', async () => {
      const { id, secret } = await t.createClient();
      for (const grant_type of ['password', 'authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:jwt-bearer']) {
        const res = await post().auth(id, secret).type('form').send({ grant_type });
        expectError(res, 400, 'unsupported_grant_type', 'only the client_credentials grant type is supported');
      }
    });

    it('rejects a parameter sent more than once with invalid_request (RFC 6749 §3.2)', async () => {
      const { id, secret } = await t.createClient();
      for (const body of [
        'grant_type=client_credentials&grant_type=client_credentials',
        'grant_type=client_credentials&scope=read&scope=write',
        `grant_type=client_credentials&client_id=${id}&client_id=${id}`,
      ]) {
        const res = await post().auth(id, secret).type('form').send(body);
        expect(res.status).toBe(400);
        expect(res.body.error).toBe('invalid_request');
        expect(res.body.error_description).toMatch(/^the (grant_type|scope|client_id) parameter must be sent exactly once$/);
        expect(res.headers).toMatchObject(NO_STORE);
      }
    });

    it('ignores a parameter it does not recognize, even when repeated (RFC 6749 §3.2)', async () => {
      const { id, secret } = await t.createClient();
      const res = await post().auth(id, secret).type('form').send('grant_type=client_credentials&foo=1&foo=2&bar[x]=1');
      expect(res.status).toBe(200);
      expect(res.body.token_type).toBe('Bearer');
      const introspect = await post('/oauth/introspect').auth(id, secret).type('form').send('token=abc&foo=1&foo=2');
      expect(introspect.status).not.toBe(400);
    });

    it('accepts resource sent more than once and hands the grant every value (RFC 8707 §2)', async () => {
      const api = 'https://orders.example.com';
      const { client, clientSecret } = await t.oauth.registry.create({ name: 'svc', scopes: 'read', audiences: [api] });
      const issue = jest.spyOn(t.oauth.server, 'issueToken');
      const res = await post()
        .auth(client.id, clientSecret)
        .type('form')
        .send(`grant_type=client_credentials&resource=${encodeURIComponent(api)}&resource=${encodeURIComponent(api)}`);
      expect(res.status).toBe(200);
      expect(issue.mock.calls[0]?.[1]).toEqual({ grant_type: 'client_credentials', scope: undefined, resource: [api, api] });
      const claims = jwt.decode(res.body.access_token) as { aud: string };
      expect(claims.aud).toBe(api);
    });

    it('rejects a body that is not application/x-www-form-urlencoded with invalid_request (RFC 6749 §4.4.2)', async () => {
      const { id, secret } = await t.createClient();
      const json = await post().auth(id, secret).send({ ...GRANT });
      expectError(json, 400, 'invalid_request', 'the request body must be application/x-www-form-urlencoded');
      const text = await post().auth(id, secret).set('Content-Type', 'text/plain').send('grant_type=client_credentials');
      expectError(text, 400, 'invalid_request', 'the request body must be application/x-www-form-urlencoded');
      const none = await post().auth(id, secret);
      expectError(none, 400, 'invalid_request', 'the request body must be application/x-www-form-urlencoded');
    });

    it('rejects a JSON body even when the host app parsed it already', async () => {
      const { id, secret } = await t.createClient();
      const app = express();
      app.use(express.json());
      app.use(t.oauth.tokenRouter());
      const res = await request(app).post('/oauth/token').auth(id, secret).send({ ...GRANT });
      expectError(res, 400, 'invalid_request', 'the request body must be application/x-www-form-urlencoded');
    });

    it('refuses a body over the size limit without reading it all (bodyLimit)', async () => {
      const { id, secret } = await t.createClient();
      const res = await post().auth(id, secret).type('form').send(`grant_type=client_credentials&scope=${'a'.repeat(9000)}`);
      expectError(res, 413, 'invalid_request', 'the request body is too large');

      // The answer comes while most of the body was never sent: the server did not wait to read it all.
      const { listen, postUnfinished } = await import('../remote-helpers');
      const http = await listen(t.app);
      const headers = { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` };
      try {
        for (const framing of [{ 'content-length': String(64 * 1024 * 1024) }, { 'transfer-encoding': 'chunked' }] as Record<string, string>[]) {
          const answer = await postUnfinished(`${http.url}/oauth/token`, { ...headers, ...framing }, `grant_type=client_credentials&scope=${'a'.repeat(9 * 1024)}`);
          expect(answer.status).toBe(413);
          expect(answer.headers.connection).toBe('close');
          expect(JSON.parse(answer.body)).toEqual({ error: 'invalid_request', error_description: 'the request body is too large' });
        }
      } finally {
        await http.close();
      }
    });

    it('refuses client credentials in the query string (RFC 6749 §2.3.1)', async () => {
      const { id, secret } = await t.createClient();
      const res = await post(`/oauth/token?client_id=${id}&client_secret=${secret}`).type('form').send(GRANT);
      expectError(res, 400, 'invalid_request', 'client credentials must not be sent in the request URI (RFC 6749 section 2.3.1)');
      const alongsideBasic = await post(`/oauth/token?client_secret=${secret}`).auth(id, secret).type('form').send(GRANT);
      expectError(alongsideBasic, 400, 'invalid_request', 'client credentials must not be sent in the request URI (RFC 6749 section 2.3.1)');
    });

    it('answers other methods with 405 and Allow: POST', async () => {
      for (const method of ['get', 'put', 'delete', 'patch'] as const) {
        const res = await request(t.app)[method]('/oauth/token');
        expectError(res, 405, 'invalid_request', 'the token endpoint accepts only POST');
        expect(res.headers.allow).toBe('POST');
      }
    });

    it('rejects Basic credentials together with a client_secret in the body with invalid_request (RFC 6749 §2.3)', async () => {
      const { id, secret } = await t.createClient();
      const res = await post().auth(id, secret).type('form').send({ ...GRANT, client_id: id, client_secret: secret });
      expectError(res, 400, 'invalid_request', 'use either HTTP Basic or body credentials, not both (RFC 6749 section 2.3)');
    });

    it('rejects a body client_id naming another client than Basic with invalid_request (RFC 6749 §3.2.1)', async () => {
      const a = await t.createClient();
      const b = await t.createClient();
      const res = await post().auth(a.id, a.secret).type('form').send({ ...GRANT, client_id: b.id });
      expectError(res, 400, 'invalid_request', 'the client_id parameter does not match the authenticated client');
    });
  });

  describe('client authentication (RFC 6749 §2.3, §5.2 invalid_client)', () => {
    it('rejects a wrong secret with 401 invalid_client and a Basic challenge (RFC 6749 §5.2)', async () => {
      const { id } = await t.createClient();
      const res = await post().auth(id, 'wrong-secret').type('form').send(GRANT);
      expectError(res, 401, 'invalid_client', 'client authentication failed');
      expect(res.headers['www-authenticate']).toBe(CHALLENGE);
    });

    it('rejects an unknown client id exactly like a wrong secret (RFC 6749 §5.2)', async () => {
      const res = await post().auth('no-such-client', 'some-secret').type('form').send(GRANT);
      expectError(res, 401, 'invalid_client', 'client authentication failed');
      expect(res.headers['www-authenticate']).toBe(CHALLENGE);
      const body = await post().type('form').send({ ...GRANT, client_id: 'no-such-client', client_secret: 'some-secret' });
      expectError(body, 401, 'invalid_client', 'client authentication failed');
    });

    it('rejects a request without client authentication with invalid_client', async () => {
      const res = await post().type('form').send(GRANT);
      expectError(res, 401, 'invalid_client', 'client authentication is required');
      expect(res.headers['www-authenticate']).toBe(CHALLENGE);
    });

    it.each([
      ['bad base64', 'Basic !!!notbase64', 'Basic credentials are not valid base64'],
      ['no colon', rawBasic('justanid'), 'Basic credentials must be client_id:client_secret'],
      ['two colons', rawBasic('id:sec:ret'), 'Basic credentials must be client_id:client_secret'],
      ['an empty id', rawBasic(':secret'), 'Basic credentials have an empty part'],
      ['an empty secret', rawBasic('id:'), 'Basic credentials have an empty part'],
      ['non-UTF-8 bytes', rawBasic(Buffer.from([0x69, 0x64, 0x3a, 0xff, 0xfe])), 'Basic credentials are not valid UTF-8'],
      ['a bad %-encoding', rawBasic('id%zz:secret'), 'Basic credentials are not correctly form-encoded (RFC 6749 section 2.3.1)'],
      ['no credentials', 'Basic', 'malformed Basic credentials'],
      ['another scheme', 'Bearer abc', 'the token endpoint accepts only HTTP Basic client authentication'],
    ])('answers a malformed Basic header (%s) with invalid_client, never a 500', async (_case, header, description) => {
      const res = await post().set('Authorization', header).type('form').send(GRANT);
      expectError(res, 401, 'invalid_client', description);
      expect(res.headers['www-authenticate']).toBe(CHALLENGE);
    });

    it.each([
      ['no client_id', { client_secret: 'a-secret' }],
      ['an empty client_id', { client_id: '', client_secret: 'a-secret' }],
    ])('answers a body client_secret with %s with invalid_client saying so (RFC 6749 §2.3.1)', async (_case, credentials) => {
      const res = await post().type('form').send({ ...GRANT, ...credentials });
      expectError(res, 401, 'invalid_client', 'client_secret was sent without client_id');
      expect(res.headers['www-authenticate']).toBe(CHALLENGE);
    });

    it('records a failed authentication as an audit event, without the secret', async () => {
      const { id } = await t.createClient();
      const events: unknown[] = [];
      t.oauth.events.on('audit', (event) => events.push(event));
      await post().auth(id, 'wrong-secret-4711').type('form').send(GRANT);
      expect(events).toEqual([
        expect.objectContaining({ type: 'client.authentication_failed', clientId: id, reason: 'client authentication failed' }),
      ]);
      expect(JSON.stringify(events)).not.toContain('wrong-secret-4711');
    });

    it('runs one bcrypt comparison against a dummy hash for an unknown client id, as for a known one', async () => {
      const { id, client } = await t.createClient();
      const compare = jest.spyOn(bcrypt, 'compare');
      try {
        await post().auth('no-such-client', 'some-secret').type('form').send(GRANT);
        expect(compare).toHaveBeenCalledTimes(1);
        const dummyHash = compare.mock.calls[0]?.[1] as string;
        // Same algorithm and cost as a real client's hash, so the comparison costs the same.
        expect(dummyHash.slice(0, 7)).toBe(client.secrets[0]?.hash.slice(0, 7));
        expect(dummyHash).not.toBe(client.secrets[0]?.hash);
        compare.mockClear();
        await post().auth(id, 'wrong-secret').type('form').send(GRANT);
        expect(compare).toHaveBeenCalledTimes(1);
      } finally {
        compare.mockRestore();
      }
    });

    it('answers a disabled client with unauthorized_client (RFC 6749 §5.2)', async () => {
      const { id, secret } = await t.createClient();
      await t.oauth.registry.setEnabled(id, false);
      const res = await post().auth(id, secret).type('form').send(GRANT);
      expectError(res, 400, 'unauthorized_client', 'the client is disabled');
    });

    it('answers a public client (no secret) with unauthorized_client (RFC 6749 §4.4)', async () => {
      await t.oauth.server.store.createClient(
        { id: 'public-app', name: 'public', scopes: ['read'], audiences: [], grantTypes: ['client_credentials'], tokenFormat: 'jwt', secretHash: null },
        Date.now(),
      );
      const res = await post().type('form').send({ ...GRANT, client_id: 'public-app' });
      expectError(res, 400, 'unauthorized_client', 'public clients may not use the client_credentials grant');
    });

    it('answers a client not allowed the client_credentials grant with unauthorized_client (RFC 6749 §5.2)', async () => {
      const { id, secret } = await t.createClient();
      await t.oauth.server.store.updateClient(id, { grantTypes: [] }, Date.now());
      const res = await post().auth(id, secret).type('form').send(GRANT);
      expectError(res, 400, 'unauthorized_client', 'the client is not allowed the client_credentials grant');
    });
  });

  describe('scope (RFC 6749 §3.3)', () => {
    it('rejects a scope the client is not allowed with invalid_scope', async () => {
      const { id, secret } = await t.createClient('read');
      const res = await post().auth(id, secret).type('form').send({ ...GRANT, scope: 'read admin' });
      expectError(res, 400, 'invalid_scope', 'scope not allowed for this client: admin');
    });

    it.each([['double space', 'read  write'], ['leading space', ' read'], ['a quote', 'read "x'], ['a backslash', 'read\\x'], ['non-ASCII', 'réad']])(
      'rejects a malformed scope (%s) with invalid_scope',
      async (_case, scope) => {
        const { id, secret } = await t.createClient('read write');
        const res = await post().auth(id, secret).type('form').send({ ...GRANT, scope });
        expectError(res, 400, 'invalid_scope', 'the scope parameter is malformed (RFC 6749 section 3.3)');
      },
    );

    it('rejects a request without scope from a client that has none with invalid_scope', async () => {
      const { id, secret } = await t.createClient('');
      const res = await post().auth(id, secret).type('form').send(GRANT);
      expectError(res, 400, 'invalid_scope', 'the client has no scopes to grant');
    });
  });

  describe('audit events of failed authentication', () => {
    it('names the claimed client id, but never a value that could be a secret (id and secret swapped)', async () => {
      const { id, secret } = await t.createClient();
      const events: unknown[] = [];
      t.oauth.events.on('client.authentication_failed', (e: unknown) => events.push(e));
      await post().auth(id, 'wrong-secret').type('form').send(GRANT);
      await post().auth(secret, id).type('form').send(GRANT);
      expect(events).toMatchObject([{ clientId: id }, { clientId: undefined }]);
      expect(JSON.stringify(events)).not.toContain(secret);
    });
  });

  describe('failures inside', () => {
    it('answers a store failure with 500 {"error":"server_error"} and nothing internal', async () => {
      const { id, secret } = await t.createClient();
      const logger = memoryLogger();
      const broken = createOAuth({ issuer: ISSUER, database: t.database, bcryptCost: 4, logger });
      const app = express();
      app.use(broken.tokenRouter());
      (broken.server.store as unknown as { db: { close(): void } }).db.close();
      const res = await request(app).post('/oauth/token').auth(id, secret).type('form').send(GRANT);
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: 'server_error' });
      expect(res.headers).toMatchObject(NO_STORE);
      expect(res.text).not.toMatch(/database|sqlite|at /i);
      expect(logger.lines).toEqual(['error request failed with an internal error']);
      await broken.close();
    });
    it('answers a database locked by another writer with 503 temporarily_unavailable and Retry-After after busyTimeout', async () => {
      const { id, secret } = await t.createClient();
      const locked = createOAuth({ issuer: ISSUER, database: t.database, busyTimeout: 50, bcryptCost: 4, logger: memoryLogger() });
      const app = express();
      app.use(locked.tokenRouter());
      // The first token needs a signing key, which is a write; another connection holds the write lock.
      const other = new Database(t.database);
      other.exec('BEGIN IMMEDIATE');
      try {
        const res = await request(app).post('/oauth/token').auth(id, secret).type('form').send(GRANT);
        expect(res.status).toBe(503);
        expect(res.headers['retry-after']).toBe('1');
        expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: 'the database is busy; try again' });
      } finally {
        other.exec('ROLLBACK');
        other.close();
        await locked.close();
      }
    });
  });

  describe('signing keys and issuer (RFC 9068)', () => {
    it('keeps the signing key in the store, so tokens issued before a restart still verify', async () => {
      const { id, secret } = await t.createClient('read');
      const token = await t.tokenFor(id, secret);
      const [before] = await t.oauth.server.keys.publicJwks();
      await t.oauth.close();

      const reopened = createOAuth({ issuer: ISSUER, database: t.database, bcryptCost: 4, logger: memoryLogger() });
      t.oauth = reopened;
      const verified = await reopened.server.verifyAccessToken(token, { audience: [ISSUER] });
      expect(verified.clientId).toBe(id);
      const [after] = await reopened.server.keys.publicJwks();
      expect(after?.kid).toBe(before?.kid);
      const app = express();
      app.get('/api/items', reopened.requireScope('read'), (_req, res) => res.json({ ok: true }));
      expect((await request(app).get('/api/items').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    });

    it('signs with ES256 when signingAlgorithm is ES256', async () => {
      const es = await buildApp({ signingAlgorithm: 'ES256' });
      try {
        const { id, secret } = await es.createClient('read');
        const token = await es.tokenFor(id, secret);
        const [key] = await es.oauth.server.keys.publicJwks();
        expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
        expect(verifyWith(key as PublicJwk, token).header).toEqual({ typ: 'at+jwt', alg: 'ES256', kid: key?.kid });
      } finally {
        await es.close();
      }
    });

    it('puts the audience option in aud', async () => {
      const aud = await buildApp({ audience: 'https://api.test' });
      try {
        const { id, secret } = await aud.createClient('read');
        expect((jwt.decode(await aud.tokenFor(id, secret)) as jwt.JwtPayload).aud).toBe('https://api.test');
      } finally {
        await aud.close();
      }
    });

    it('warns once when no issuer is configured and uses the development issuer', async () => {
      const logger = memoryLogger();
      const dev = await buildApp({ issuer: undefined, logger });
      try {
        const { id, secret } = await dev.createClient('read');
        const first = jwt.decode(await dev.tokenFor(id, secret)) as jwt.JwtPayload;
        await dev.tokenFor(id, secret);
        expect(first.iss).toBe('http://localhost:3000');
        expect(logger.lines.filter((l) => l.startsWith('warn '))).toEqual([
          'warn no issuer configured: using the development default http://localhost:3000; set the issuer option (or OAUTH_ISSUER) in production',
        ]);
      } finally {
        await dev.close();
      }
    });
  });
});
