// withAuth(): a guarded handler typed with req.auth set (issue 10.17), and a clear failure when no guard ran.
import express from 'express';
import request from 'supertest';
import { oauthErrorHandler, withAuth } from '../../lib';
import { buildApp, type TestApp } from '../helpers';

let t: TestApp;
beforeEach(async () => {
  t = await buildApp();
});
afterEach(() => t.close());

describe('withAuth()', () => {
  it('runs the handler with req.auth set by the guard before it (issue 10.17)', async () => {
    const app = express();
    app.get('/api/me', t.oauth.requireScope('read'), withAuth((req, res) => res.json({ clientId: req.auth.clientId, scopes: req.auth.scopes })));
    app.use(oauthErrorHandler());
    const { id, secret } = await t.createClient('read write');
    const token = await t.tokenFor(id, secret, 'read');
    const res = await request(app).get('/api/me').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ clientId: id, scopes: ['read'] });
  });

  it('answers 500 server_error, without detail, when no guard ran before it (a wiring mistake)', async () => {
    const app = express();
    app.get('/api/me', withAuth((req, res) => res.json({ clientId: req.auth.clientId })));
    app.use(oauthErrorHandler());
    const res = await request(app).get('/api/me');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'server_error' });
  });

  it('passes the error of a rejected async handler to next(err) unchanged, also where Express 4 would not', async () => {
    const app = express();
    const failure = new Error('database down');
    const seen: unknown[] = [];
    app.get('/api/me', t.oauth.requireScope('read'), withAuth(async () => Promise.reject(failure)));
    app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      seen.push(err);
      res.status(503).json({ error: 'app_error' });
    });
    const { id, secret } = await t.createClient('read');
    const res = await request(app).get('/api/me').set('Authorization', `Bearer ${await t.tokenFor(id, secret)}`);
    expect(res.status).toBe(503);
    expect(seen).toEqual([failure]);
  });
});
