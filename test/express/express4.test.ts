// Express 4 compatibility: the token endpoint, the guard and a path issuer in an Express 4 app, with the library on Express 5 and on Express 4 (peer dependency resolved to the host's).
import request from 'supertest';
import type * as Lib from '../../lib';
import { ISSUER, memoryLogger, tempDir } from '../helpers';
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const express4 = require('express4') as typeof import('express');

/** The main flow on an Express 4 app: a token, a guarded call, and the RFC errors around them. */
async function mainFlow(lib: typeof Lib): Promise<void> {
  const { dir, cleanup } = tempDir();
  const oauth = lib.createOAuth({ issuer: ISSUER, database: join(dir, 'oauth.sqlite'), bcryptCost: 4, logger: memoryLogger() });
  try {
    const app = express4();
    app.use(oauth.tokenRouter());
    app.get('/api/items', oauth.requireScope('read'), (req, res) => res.json({ clientId: req.auth?.clientId }));
    app.use(lib.oauthErrorHandler());
    const { client, clientSecret } = await oauth.registry.create({ name: 'express 4', scopes: 'read' });

    const token = await request(app).post('/oauth/token').auth(client.id, clientSecret).type('form').send({ grant_type: 'client_credentials' });
    expect(token.status).toBe(200);
    expect(token.headers['cache-control']).toBe('no-store');
    expect(token.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'read' });

    const items = await request(app).get('/api/items').set('Authorization', `Bearer ${token.body.access_token}`);
    expect(items.status).toBe(200);
    expect(items.body).toEqual({ clientId: client.id });

    const wrong = await request(app).post('/oauth/token').auth(client.id, 'wrong').type('form').send({ grant_type: 'client_credentials' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });

    const repeated = await request(app).post('/oauth/token').auth(client.id, clientSecret).type('form').send('grant_type=client_credentials&grant_type=x');
    expect(repeated.status).toBe(400);
    expect(repeated.body).toEqual({ error: 'invalid_request', error_description: 'the grant_type parameter must be sent exactly once' });

    const get = await request(app).get('/oauth/token');
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');

    // Express 4's own urlencoded parser in front of the token router.
    const parsedFirst = express4();
    parsedFirst.use(express4.urlencoded({ extended: false }));
    parsedFirst.use(oauth.tokenRouter());
    const again = await request(parsedFirst).post('/oauth/token').auth(client.id, clientSecret).type('form').send({ grant_type: 'client_credentials' });
    expect(again.status).toBe(200);
  } finally {
    await oauth.close();
    cleanup();
  }
}

/** An issuer with a path on Express 4: metadata at the RFC 8414 §3.1 location, endpoints under the path, an oversized body refused. */
async function pathIssuerFlow(lib: typeof Lib): Promise<void> {
  const { dir, cleanup } = tempDir();
  const oauth = lib.createOAuth({ issuer: `${ISSUER}/tenant`, database: join(dir, 'oauth.sqlite'), bcryptCost: 4, logger: memoryLogger() });
  try {
    const app = express4();
    app.use(oauth.tokenRouter());
    const meta = await request(app).get('/.well-known/oauth-authorization-server/tenant');
    expect(meta.status).toBe(200);
    expect(meta.body.token_endpoint).toBe(`${ISSUER}/tenant/oauth/token`);
    const { client, clientSecret } = await oauth.registry.create({ name: 'express 4', scopes: 'read' });
    const token = await request(app).post('/tenant/oauth/token').auth(client.id, clientSecret).type('form').send({ grant_type: 'client_credentials' });
    expect(token.status).toBe(200);
    expect((await request(app).get('/tenant/.well-known/jwks.json')).body.keys).toHaveLength(1);
    const huge = await request(app).post('/tenant/oauth/token').auth(client.id, clientSecret).type('form').send(`grant_type=client_credentials&scope=${'a'.repeat(9000)}`);
    expect(huge.status).toBe(413);
    expect(huge.body).toEqual({ error: 'invalid_request', error_description: 'the request body is too large' });
  } finally {
    await oauth.close();
    cleanup();
  }
}

describe('Express 4 compatibility', () => {
  it('serves the token endpoint and the guard in an Express 4 app', async () => {
    await mainFlow(await import('../../lib'));
    await pathIssuerFlow(await import('../../lib'));
  });

  it('works when the express peer dependency resolves to Express 4 (an Express 4 host app)', async () => {
    let lib: typeof Lib | undefined;
    let routerExpress: unknown;
    jest.isolateModules(() => {
      jest.doMock('express', () => jest.requireActual('express4'));
      lib = require('../../lib') as typeof Lib;
      routerExpress = require('express');
    });
    // express.query exists in Express 4 only: the library really runs on Express 4 here.
    expect(typeof (routerExpress as { query?: unknown }).query).toBe('function');
    await mainFlow(lib as typeof Lib);
    await pathIssuerFlow(lib as typeof Lib);
  });
});
