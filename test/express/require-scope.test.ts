// requireScope(): RFC 6750 bearer extraction, token verification, all-of / any-of scopes, req.auth, and errors through next(err).
import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import express, { type ErrorRequestHandler, type Express } from 'express';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { BearerTokenMissingError, InsufficientScopeError, InvalidRequestError, InvalidTokenError, OAuthError, oauthErrorHandler, type OAuth } from '../../lib';
import { signAccessToken, type AccessTokenClaims } from '../../lib/core/tokens/jwt';
import { generateSigningKey, loadKey } from '../../lib/core/tokens/keys';
import { buildApp, fakeClock, ISSUER, memoryLogger, type TestApp } from '../helpers';

// Express 4 is a supported peer too; its final handler renders errors with its own rules.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const express4 = require('express4') as typeof express;

let t: TestApp;
afterEach(async () => {
  jest.restoreAllMocks();
  await t.close();
});

/** An app on `oauth` with the token router, the given routes, and (unless told otherwise) the JSON error handler. */
function mount(oauth: OAuth, routes: (app: Express) => void, errorHandler: ErrorRequestHandler | null = oauthErrorHandler()): Express {
  const app = express();
  app.use(oauth.tokenRouter());
  routes(app);
  if (errorHandler) app.use(errorHandler);
  return app;
}

const ok = (req: express.Request, res: express.Response) => void res.json({ auth: req.auth });

/** A token with every claim this issuer would put in it, changed by `overrides`, signed with the instance's key. */
async function craft(overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
  const key = await t.oauth.server.keys.getSigner();
  const now = Math.floor(t.oauth.server.options.clock() / 1000);
  const claims = { iss: ISSUER, sub: 'c', client_id: 'c', aud: ISSUER, scope: 'read', iat: now, exp: now + 60, jti: 'j', ...overrides };
  if (Object.keys(header).length === 0) return signAccessToken(claims as AccessTokenClaims, key);
  return jwt.sign(claims, key.privateKey!, { algorithm: key.alg, header: { alg: key.alg, typ: 'at+jwt', kid: key.kid, ...header } });
}

async function readWriteToken(scope?: string): Promise<string> {
  const { id, secret } = await t.createClient('read write');
  return t.tokenFor(id, secret, scope);
}

const challenge = (error: string, description: string, scope?: string) =>
  `Bearer realm="oauth", error="${error}", error_description="${description}"${scope ? `, scope="${scope}"` : ''}`;

const STATUS = { invalid_request: 400, invalid_token: 401, insufficient_scope: 403 } as const;

/** The exact RFC 6750 §3 refusal: status, challenge header and JSON body. */
function expectRefusal(res: request.Response, error: keyof typeof STATUS, description: string, scope?: string): void {
  expect(res.status).toBe(STATUS[error]);
  expect(res.headers['www-authenticate']).toBe(challenge(error, description, scope));
  expect(res.body).toEqual({ error, error_description: description });
}

/** RFC 6750 §3.1: no token at all gets a bare challenge and no error code. */
function expectNoToken(res: request.Response): void {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toBe('Bearer realm="oauth"');
  expect(res.body).toEqual({ error_description: 'a bearer access token is required' });
}

describe('requireScope guard', () => {
  beforeEach(async () => {
    t = await buildApp();
  });

  describe('a request without a token (RFC 6750 §3.1)', () => {
    it('gets 401 with a bare realm challenge and no error code', async () => {
      const res = await request(t.app).get('/api/items');
      expectNoToken(res);
    });

    it('treats another authentication scheme as no bearer token', async () => {
      const res = await request(t.app).get('/api/items').set('Authorization', 'Basic YTpi');
      expectNoToken(res);
    });
  });

  describe('a malformed request gets 400 invalid_request (RFC 6750 §3.1)', () => {
    it.each([
      ['two tokens in one header', 'Bearer abc def'],
      ['the scheme without a token', 'Bearer'],
      ['a token outside the b64token grammar', 'Bearer abc"def'],
      ['padding inside the token', 'Bearer ab=cd'],
      ['a comma-separated second credential', 'Bearer abc, Bearer def'],
    ])('rejects %s', async (_name, header) => {
      const res = await request(t.app).get('/api/items').set('Authorization', header);
      const description = 'the Authorization header is not a well-formed Bearer credential';
      expectRefusal(res, 'invalid_request', description);
    });

    it('rejects two Authorization headers', async () => {
      const token = await readWriteToken();
      const res = await request(t.app).get('/api/items').set('Authorization', [`Bearer ${token}`, `Bearer ${token}`] as unknown as string); // two header lines
      expectRefusal(res, 'invalid_request', 'send exactly one Authorization header');
    });

    it('refuses a token in the query string, even next to a good header (RFC 9700 §2.4)', async () => {
      const token = await readWriteToken();
      const res = await request(t.app).get(`/api/items?access_token=${token}`).set('Authorization', `Bearer ${token}`);
      const description = 'access tokens in the request URI are not accepted';
      expectRefusal(res, 'invalid_request', description);
    });

    it('accepts the scheme name in any case and more than one space (RFC 6750 §2.1, RFC 7235 §2.1)', async () => {
      const token = await readWriteToken();
      const res = await request(t.app).get('/api/items').set('Authorization', `bEaReR   ${token}`);
      expect(res.status).toBe(200);
    });
  });

  describe('a bad token gets 401 invalid_token (RFC 6750 §3.1)', () => {
    async function expectInvalidToken(token: string, description: string, app: Express = t.app): Promise<void> {
      const res = await request(app).get('/api/items').set('Authorization', `Bearer ${token}`);
      expectRefusal(res, 'invalid_token', description);
    }

    it('rejects a token that is not a JWT', async () => {
      await expectInvalidToken('abc.def', 'the access token is malformed');
    });

    it('rejects an altered payload (signature check)', async () => {
      const [header, , signature] = (await readWriteToken()).split('.');
      const forged = Buffer.from(JSON.stringify({ iss: ISSUER, sub: 'x', aud: ISSUER, scope: 'admin', exp: 9e9, iat: 1, jti: 'x' })).toString('base64url');
      await expectInvalidToken(`${header}.${forged}.${signature}`, 'the access token signature is invalid');
    });

    it('rejects a token from another issuer instance (another key)', async () => {
      const other = await buildApp();
      try {
        const { id, secret } = await other.createClient('read');
        await expectInvalidToken(await other.tokenFor(id, secret), 'the access token was signed with an unknown key');
      } finally {
        await other.close();
      }
    });

    it('rejects a token signed by a foreign key under this issuer key id', async () => {
      const own = await t.oauth.server.keys.getSigner();
      const foreign = loadKey(await generateSigningKey('RS256', Date.now()));
      const now = Math.floor(Date.now() / 1000);
      const token = jwt.sign({ iss: ISSUER, sub: 'c', aud: ISSUER, scope: 'read', iat: now, exp: now + 60, jti: 'j' }, foreign.privateKey!, {
        algorithm: 'RS256',
        header: { alg: 'RS256', typ: 'at+jwt', kid: own.kid },
      });
      await expectInvalidToken(token, 'the access token signature is invalid');
    });

    it('rejects an alg "none" token', async () => {
      const [, payload] = (await readWriteToken()).split('.');
      const { kid } = await t.oauth.server.keys.getSigner();
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid })).toString('base64url');
      await expectInvalidToken(`${header}.${payload}.`, 'the access token algorithm is not accepted');
    });

    it('rejects an HS256 token signed with the issuer public key as HMAC secret', async () => {
      const [, payload] = (await readWriteToken()).split('.');
      const key = await t.oauth.server.keys.getSigner();
      const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'at+jwt', kid: key.kid })).toString('base64url');
      const pem = key.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const signature = createHmac('sha256', pem).update(`${header}.${payload}`).digest('base64url');
      await expectInvalidToken(`${header}.${payload}.${signature}`, 'the access token algorithm is not accepted');
    });

    it('rejects a token for another audience', async () => {
      await expectInvalidToken(await craft({ aud: 'https://other.test' }), 'the access token is not meant for this audience');
    });

    it('rejects a token from another issuer signed with a key it holds', async () => {
      await expectInvalidToken(await craft({ iss: 'https://other.test' }), 'the access token was issued by another issuer');
    });

    it('rejects a JWT that is not an access token (typ JWT, RFC 9068 §4)', async () => {
      await expectInvalidToken(await craft({}, { typ: 'JWT' }), 'the token is not an access token (typ)');
    });

    it('rejects a good token at a guard that expects another audience', async () => {
      const app = mount(t.oauth, (a) => a.get('/api/items', t.oauth.requireScope('read', { audience: 'https://api.other' }), ok));
      await expectInvalidToken(await readWriteToken(), 'the access token is not meant for this audience', app);
    });

    it('accepts a guard audience list that includes the token audience', async () => {
      const app = mount(t.oauth, (a) => a.get('/api/items', t.oauth.requireScope('read', { audience: ['https://api.other', ISSUER] }), ok));
      const res = await request(app).get('/api/items').set('Authorization', `Bearer ${await readWriteToken()}`);
      expect(res.status).toBe(200);
    });
  });

  describe('scopes', () => {
    it('returns 403 insufficient_scope with the required scopes in the challenge (RFC 6750 §3.1)', async () => {
      const token = await readWriteToken('read');
      const res = await request(t.app).post('/api/items').set('Authorization', `Bearer ${token}`);
      expectRefusal(res, 'insufficient_scope', 'this resource needs the scopes write', 'write');
    });

    it('requires every scope of requireScope(a, b) (all-of)', async () => {
      const app = mount(t.oauth, (a) => a.get('/both', t.oauth.requireScope('read', 'write'), ok));
      const partial = await request(app).get('/both').set('Authorization', `Bearer ${await readWriteToken('read')}`);
      expectRefusal(partial, 'insufficient_scope', 'this resource needs the scopes read write', 'read write');
      const full = await request(app).get('/both').set('Authorization', `Bearer ${await readWriteToken('read write')}`);
      expect(full.status).toBe(200);
    });

    it('accepts any one scope of requireScope.any(a, b) (any-of)', async () => {
      const read = await request(t.app).get('/api/any').set('Authorization', `Bearer ${await readWriteToken('read')}`);
      expect(read.status).toBe(200);
      const write = await request(t.app).get('/api/any').set('Authorization', `Bearer ${await readWriteToken('write')}`);
      expectRefusal(write, 'insufficient_scope', 'this resource needs one of the scopes read admin', 'read admin');
    });

    it('reads a scp array claim only from a guard with acceptScp', async () => {
      const { id } = await t.createClient('read');
      const token = await craft({ sub: id, client_id: id, scope: undefined, scp: ['read', 'admin'] });
      const plain = await request(t.app).get('/api/items').set('Authorization', `Bearer ${token}`);
      expectRefusal(plain, 'invalid_token', 'the access token scope claim is malformed');

      const app = mount(t.oauth, (a) => a.get('/scp', t.oauth.requireScope('admin', { acceptScp: true }), ok));
      const res = await request(app).get('/scp').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(200);
      expect(res.body.auth.scopes).toEqual(['read', 'admin']);
    });
  });

  describe('req.auth', () => {
    it('holds the client id, the granted scopes as an array and every claim', async () => {
      const { id, secret } = await t.createClient('read write');
      const token = await t.tokenFor(id, secret, 'read');
      const res = await request(t.app).get('/api/items').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(200);
      const claims = jwt.decode(token) as Record<string, unknown>;
      expect(res.body.auth).toEqual({ clientId: id, scopes: ['read'], claims });
      expect(Object.keys(claims).sort()).toEqual(['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub']);
    });

    it('is not set and the handler never runs when the guard refuses', async () => {
      const handler = jest.fn(ok);
      const app = mount(t.oauth, (a) => a.get('/x', t.oauth.requireScope('admin'), handler));
      const res = await request(app).get('/x').set('Authorization', `Bearer ${await readWriteToken()}`);
      expect(res.status).toBe(403);
      expect(handler).not.toHaveBeenCalled();
    });
  });

  describe('form-body tokens (RFC 6750 §2.2)', () => {
    const form = (app: Express, body: string) => request(app).post('/form').type('form').send(body);
    const withBodyGuard = (options: { allowBodyToken?: boolean } = { allowBodyToken: true }) =>
      mount(t.oauth, (a) => {
        a.post('/form', t.oauth.requireScope('read', options), ok);
        a.get('/form', t.oauth.requireScope('read', options), ok);
      });

    it('ignores a body token unless allowBodyToken is set', async () => {
      const res = await form(withBodyGuard({}), `access_token=${await readWriteToken()}`);
      expectNoToken(res);
    });

    it('accepts a form-body token when allowBodyToken is set', async () => {
      const res = await form(withBodyGuard(), `access_token=${encodeURIComponent(await readWriteToken())}&other=1`);
      expect(res.status).toBe(200);
      expect(res.body.auth.scopes).toEqual(['read', 'write']);
    });

    it('rejects a Bearer header together with a body token (one method per request, RFC 6750 §2)', async () => {
      const token = await readWriteToken();
      const res = await form(withBodyGuard(), `access_token=${token}`).set('Authorization', `Bearer ${token}`);
      expectRefusal(res, 'invalid_request', 'send the access token one way only');
    });

    it.each([
      ['a repeated access_token', 'access_token=abc&access_token=def'],
      ['a token outside the b64token grammar', 'access_token=a%20b'],
    ])('rejects %s with 400', async (_name, body) => {
      const res = await form(withBodyGuard(), body);
      expectRefusal(res, 'invalid_request', 'the access_token parameter is malformed');
    });

    it('never reads a body token of a GET request', async () => {
      const token = await readWriteToken();
      const res = await request(withBodyGuard()).get('/form').type('form').send(`access_token=${token}`);
      expectNoToken(res);
    });

    it('never reads a JSON body token', async () => {
      expectNoToken(await request(withBodyGuard()).post('/form').send({ access_token: await readWriteToken() }));
    });
  });

  describe('challenge quoting', () => {
    it('escapes quotes and backslashes in a guard realm', async () => {
      const app = mount(t.oauth, (a) => a.get('/r', t.oauth.requireScope('read', { realm: 'my "api" \\ v2' }), ok));
      const res = await request(app).get('/r');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="my \\"api\\" \\\\ v2"');
    });
  });

  describe('errors travel through next(err)', () => {
    function recordingApp(): { app: Express; seen: unknown[] } {
      const seen: unknown[] = [];
      const app = mount(t.oauth, (a) => a.get('/api/items', t.oauth.requireScope('write'), ok), (err, _req, res, _next) => {
        seen.push(err);
        const e = err as OAuthError;
        res.status(e.status).set(e.headers).type('text').send(`denied: ${e.error ?? 'no token'}`);
      });
      return { app, seen };
    }

    it.each([
      ['no token', undefined, BearerTokenMissingError, 401],
      ['a malformed header', 'Bearer a b', InvalidRequestError, 400],
      ['a bad token', 'Bearer abc', InvalidTokenError, 401],
    ])('hands the app error handler a typed error for %s', async (_name, header, type, status) => {
      const { app, seen } = recordingApp();
      const req = request(app).get('/api/items');
      const res = await (header ? req.set('Authorization', header) : req);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toBeInstanceOf(type);
      expect(seen[0]).toBeInstanceOf(OAuthError);
      expect(res.status).toBe(status);
      expect(res.text).toBe(`denied: ${(seen[0] as OAuthError).error ?? 'no token'}`);
      expect(res.headers['www-authenticate']).toBe((seen[0] as OAuthError).headers['WWW-Authenticate']);
    });

    it('hands over an InsufficientScopeError with the required scopes and the challenge header', async () => {
      const { app, seen } = recordingApp();
      const res = await request(app).get('/api/items').set('Authorization', `Bearer ${await readWriteToken('read')}`);
      expect(res.status).toBe(403);
      const err = seen[0] as InsufficientScopeError;
      expect(err).toBeInstanceOf(InsufficientScopeError);
      expect(err).toMatchObject({ error: 'insufficient_scope', status: 403, statusCode: 403, expose: true, requiredScopes: ['write'] });
      expect(err.headers).toEqual({ 'WWW-Authenticate': challenge('insufficient_scope', 'this resource needs the scopes write', 'write') });
    });

    it('turns a store failure into a bare 500 server_error, logged, with nothing of the cause in the response', async () => {
      const logger = memoryLogger();
      await t.close();
      t = await buildApp({ logger });
      const token = await readWriteToken();
      t.oauth.server.keys.invalidate();
      jest.spyOn(t.oauth.server.store, 'listSigningKeys').mockRejectedValue(new Error('disk gone at /var/secret/path'));
      const res = await request(t.app).get('/api/items').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: 'server_error' });
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(res.text).not.toContain('/var/secret');
      expect(logger.lines).toContain('error the guard could not verify a token');
    });
  });

  describe('default rendering when the app adds no error handler', () => {
    const bare = () => mount(t.oauth, (a) => a.get('/api/items', t.oauth.requireScope('write'), ok), null);

    it.each([
      ['Express 5', express],
      ['Express 4', express4],
    ])('%s final handler sends the status and WWW-Authenticate, and no stack trace even in development', async (_name, framework) => {
      const app = framework();
      app.set('env', 'development'); // as with NODE_ENV unset
      app.get('/api/items', t.oauth.requireScope('write'), ok);
      const logged: string[] = [];
      jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void logged.push(args.map((a) => inspect(a)).join(' ')));

      const none = await request(app).get('/api/items');
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Bearer realm="oauth"');
      expect(none.text).toContain('BearerTokenMissingError: a bearer access token is required');

      const bad = await request(app).get('/api/items').set('Authorization', 'Bearer abc.def.ghi');
      expect(bad.status).toBe(401);
      expect(bad.headers['www-authenticate']).toBe(challenge('invalid_token', 'the access token is malformed'));

      const scope = await request(app).get('/api/items').set('Authorization', `Bearer ${await readWriteToken('read')}`);
      expect(scope.status).toBe(403);
      expect(scope.headers['www-authenticate']).toBe(challenge('insufficient_scope', 'this resource needs the scopes write', 'write'));

      await new Promise((resolve) => setImmediate(resolve)); // Express logs from a setImmediate after responding
      for (const body of [none.text, bad.text, scope.text, ...logged]) {
        expect(body).not.toMatch(/\n\s+at /);
        expect(body).not.toContain('node_modules');
      }
      expect(logged.length).toBeGreaterThan(0);
    });

    it('sends only the status text in production', async () => {
      const app = bare();
      app.set('env', 'production');
      jest.spyOn(console, 'error').mockImplementation(() => undefined);
      const res = await request(app).get('/api/items');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="oauth"');
      expect(res.text).toContain('Unauthorized');
      expect(res.text).not.toContain('BearerTokenMissingError');
      await new Promise((resolve) => setImmediate(resolve)); // let Express log before the spy is restored
    });
  });

  describe('clock tolerance (injected clock)', () => {
    it('accepts a token until exp plus the tolerance (default 5 s), then rejects it as expired', async () => {
      const clock = fakeClock();
      await t.close();
      t = await buildApp({ clock: clock.now });
      const token = await readWriteToken();
      const get = () => request(t.app).get('/api/items').set('Authorization', `Bearer ${token}`);
      clock.advance(3600_000 + 4_000);
      expect((await get()).status).toBe(200);
      clock.advance(1_000);
      const res = await get();
      expectRefusal(res, 'invalid_token', 'the access token expired');
    });

    it('rejects at exp itself with clockTolerance 0', async () => {
      const clock = fakeClock();
      await t.close();
      t = await buildApp({ clock: clock.now, clockTolerance: 0 });
      const token = await readWriteToken();
      clock.advance(3600_000 - 1_000);
      expect((await request(t.app).get('/api/items').set('Authorization', `Bearer ${token}`)).status).toBe(200);
      clock.advance(1_000);
      const res = await request(t.app).get('/api/items').set('Authorization', `Bearer ${token}`);
      expectRefusal(res, 'invalid_token', 'the access token expired');
    });

    it('rejects a token that is not valid yet beyond the tolerance', async () => {
      const now = Math.floor(t.oauth.server.options.clock() / 1000);
      const res = await request(t.app).get('/api/items').set('Authorization', `Bearer ${await craft({ nbf: now + 30 })}`);
      expectRefusal(res, 'invalid_token', 'the access token is not valid yet');
    });
  });
});

describe('requireScope definition', () => {
  let oauth: OAuth;
  beforeEach(async () => {
    t = await buildApp();
    oauth = t.oauth;
  });

  const call = (f: (...args: never[]) => unknown, ...args: unknown[]) => () => (f as (...a: unknown[]) => unknown)(...args);

  it.each([
    ['no scope', []],
    ['an empty scope', ['']],
    ['a scope with a space', ['read write']],
    ['a scope with a double quote (RFC 6749 §3.3)', ['a"b']],
    ['a scope with a backslash (RFC 6749 §3.3)', ['a\\b']],
    ['a non-string scope', [42]],
    ['an array instead of scopes', [['read']]],
    ['only options', [{ allowBodyToken: true }]],
  ])('throws TypeError for %s, for all-of and any-of', (_name, args) => {
    expect(call(oauth.requireScope, ...args)).toThrow(TypeError);
    expect(call(oauth.requireScope.any, ...args)).toThrow(TypeError);
  });

  it.each([
    ['an empty audience list', { audience: [] }],
    ['a non-string audience', { audience: 5 }],
    ['an empty audience', { audience: '' }],
    ['a non-boolean allowBodyToken', { allowBodyToken: 'false' }],
    ['a non-boolean acceptScp', { acceptScp: 1 }],
    ['a realm with a non-ASCII character', { realm: 'caf\u00e9' }],
    ['a realm with a line break', { realm: 'a\nb' }],
  ])('throws TypeError for %s in the options', (_name, options) => {
    expect(call(oauth.requireScope, 'read', options)).toThrow(TypeError);
    expect(call(oauth.requireScope.any, 'read', options)).toThrow(TypeError);
  });

  it('names the offending scope in the message', () => {
    expect(call(oauth.requireScope, 'read', 'a"b')).toThrow('requireScope(): "a\\"b" is not a valid scope (RFC 6749 §3.3 scope-token)');
  });

  it('accepts several scopes followed by options', () => {
    expect(typeof oauth.requireScope('read', 'write', { realm: 'api', audience: ['a', 'b'], acceptScp: true, allowBodyToken: false })).toBe('function');
  });
});
