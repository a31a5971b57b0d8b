// The guard's answer for a cached token, given without a promise: the same decisions as the full path (RFC 6750 §2, §3.1), on the in-process and the remote guard, and an error thrown further down is the app's, once.
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import http from 'node:http';
import request from 'supertest';
import { createResourceServer, oauthErrorHandler, type RequireScope } from '../../lib';
import { buildApp, memoryLogger, type TestApp } from '../helpers';
import { listen, startIssuer } from '../remote-helpers';

let t: TestApp;
beforeEach(async () => {
  t = await buildApp({ signingAlgorithm: 'ES256' });
});
afterEach(async () => t.close());

describe('guard, cached token', () => {
  it('refuses a cached token of the wrong scope with insufficient_scope (RFC 6750 §3.1)', async () => {
    const { id, secret } = await t.createClient('read write');
    const token = await t.tokenFor(id, secret, 'read');
    expect((await request(t.app).get('/api/items').auth(token, { type: 'bearer' })).status).toBe(200);
    const res = await request(t.app).post('/api/items').auth(token, { type: 'bearer' });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'insufficient_scope', error_description: 'this resource needs the scopes write' });
  });

  it('passes an error thrown by the next handler to the error handler once, untouched', async () => {
    const { id, secret } = await t.createClient('read');
    const token = await t.tokenFor(id, secret);
    const seen: unknown[] = [];
    const app = express();
    app.get('/boom', t.oauth.requireScope('read'), () => {
      throw new Error('handler failed');
    });
    app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
      seen.push(err);
      res.status(500).json({ seen: seen.length });
    });
    app.use(oauthErrorHandler());
    for (let i = 0; i < 2; i++) {
      // The first request verifies and caches; the second is answered from the cache.
      seen.length = 0;
      const res = await request(app).get('/boom').auth(token, { type: 'bearer' });
      expect(res.status).toBe(500);
      expect(seen).toHaveLength(1);
      expect((seen[0] as Error).message).toBe('handler failed');
    }
  });
});

/**
 * GET `url` with `rawHeaders` as written (name, value, name, value...), so names keep their case and
 * repeat; Node adds nothing to a raw list, so it starts with Host.
 */
function rawGet(url: string, rawHeaders: string[]): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'GET', headers: ['Host', new URL(url).host, ...rawHeaders] }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
        } catch (err) {
          reject(new Error(`${res.statusCode}: ${text}`, { cause: err }));
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('guard, cached token, Authorization header names', () => {
  it('refuses two Authorization headers whatever the case of their names, each with the cached token (RFC 6750 §2: one method per request)', async () => {
    const { id, secret } = await t.createClient('read');
    const token = await t.tokenFor(id, secret);
    const service = await listen(t.app);
    try {
      expect((await rawGet(`${service.url}/api/items`, ['authorization', `Bearer ${token}`])).status).toBe(200);
      for (const [first, second] of [['AUTHORIZATION', 'authorization'], ['Authorization', 'aUTHORIZATION'], ['authorization', 'Authorization']]) {
        const res = await rawGet(`${service.url}/api/items`, [first as string, `Bearer ${token}`, second as string, `Bearer ${token}`]);
        expect(res).toEqual({ status: 400, body: { error: 'invalid_request', error_description: 'send exactly one Authorization header' } });
      }
      // One header, its name in any case, is the one header it must be.
      for (const name of ['AUTHORIZATION', 'Authorization', 'aUtHoRiZaTiOn']) {
        expect((await rawGet(`${service.url}/api/items`, [name, `Bearer ${token}`])).status).toBe(200);
      }
    } finally {
      await service.close();
    }
  });
});

/** A good token, and `get(path)`: a request to an app with `GET /items` guarded by `read` (see {@link itemsApp}). */
interface Guarded {
  get(path: string): request.Test;
  token: string;
  close(): Promise<void>;
}

/** `GET /items` behind `requireScope('read')`; the handler tries to change req.auth, then answers with what it holds. */
function itemsApp(requireScope: RequireScope): Express {
  const app = express();
  app.get('/items', requireScope('read'), (req, res) => {
    const auth = req.auth as { clientId: string; scopes: string[] };
    const attempts = [
      () => (auth.clientId = 'someone else'),
      () => auth.scopes.push('admin'),
      () => Object.assign(auth, { extra: true }),
    ];
    const refused = attempts.filter((attempt) => {
      try {
        attempt();
        return false;
      } catch (err) {
        return err instanceof TypeError;
      }
    }).length;
    res.json({ auth: req.auth, refused });
  });
  app.use(oauthErrorHandler());
  return app;
}

const guards: [string, () => Promise<Guarded>][] = [
  [
    'in-process guard',
    async () => {
      const { id, secret } = await t.createClient('read');
      const app = itemsApp(t.oauth.requireScope);
      return { get: (path) => request(app).get(path), token: await t.tokenFor(id, secret), close: async () => undefined };
    },
  ],
  [
    'remote guard (JWKS)',
    async () => {
      const ORDERS = 'https://orders.internal';
      const iss = await startIssuer();
      const rs = createResourceServer({ issuer: iss.issuer, audience: ORDERS, logger: memoryLogger() });
      const { client, clientSecret } = await iss.oauth.registry.create({ name: 'orders caller', scopes: 'read', audiences: [ORDERS] });
      const token = await iss.token(client.id, clientSecret, { resource: ORDERS });
      const service = await listen(itemsApp(rs.requireScope));
      return {
        get: (path) => request(service.url).get(path),
        token,
        close: async () => {
          rs.close();
          await service.close();
          await iss.close();
        },
      };
    },
  ],
];

describe.each(guards)('%s, a cached token', (_name, setUp) => {
  let g: Guarded;
  beforeEach(async () => {
    g = await setUp();
    // The first request verifies the token and caches it: every request below may be answered from the cache.
    expect((await g.get('/items').set('Authorization', `Bearer ${g.token}`)).status).toBe(200);
  });
  afterEach(async () => g.close());

  it('refuses it in the query string, even next to a good header (RFC 9700 §2.4, RFC 6750 §5.3)', async () => {
    const res = await g.get(`/items?access_token=${g.token}`).set('Authorization', `Bearer ${g.token}`);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'access tokens in the request URI are not accepted' });
  });

  it('refuses it in two Authorization headers (RFC 6750 §2: one method per request)', async () => {
    const res = await g.get('/items').set('Authorization', [`Bearer ${g.token}`, `Bearer ${g.token}`] as unknown as string); // two header lines
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'send exactly one Authorization header' });
  });

  it('judges any header but exactly "Bearer <token>" by the full path: any case and several spaces pass, anything after the token is refused (RFC 6750 §2.1)', async () => {
    for (const header of [`bearer ${g.token}`, `BEARER ${g.token}`, `Bearer   ${g.token}`]) {
      expect((await g.get('/items').set('Authorization', header)).status).toBe(200);
    }
    for (const header of [`Bearer ${g.token},`, `Bearer ${g.token} x`, `Bearer ${g.token}"`]) {
      const res = await g.get('/items').set('Authorization', header);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: 'the Authorization header is not a well-formed Bearer credential' });
    }
  });

  it('gives every request the same frozen req.auth: a handler cannot change what the next request sees', async () => {
    const first = await g.get('/items').set('Authorization', `Bearer ${g.token}`);
    const second = await g.get('/items').set('Authorization', `Bearer ${g.token}`);
    // Each request's handler tried three changes (a field, the scopes, a new member); each threw.
    expect(first.body.refused).toBe(3);
    expect(second.body).toEqual(first.body);
    expect(second.body.auth.scopes).toEqual(['read']);
    expect(second.body.auth.clientId).not.toBe('someone else');
  });
});
