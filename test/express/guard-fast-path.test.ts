// The guard's answer for a cached token, given without a promise: the same decisions as the full path (RFC 6750 §3.1), and an error thrown further down is the app's, once.
import express, { type NextFunction, type Request, type Response } from 'express';
import request from 'supertest';
import { oauthErrorHandler } from '../../lib';
import { buildApp, type TestApp } from '../helpers';

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
