// The zero-config default instance: a bare tokenRouter() and a bare requireScope() paired in one process through OAUTH_DB / OAUTH_ISSUER.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Express } from 'express';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { closeDefaultOAuth, defaultOAuth, oauthErrorHandler, requireScope, tokenRouter } from '../lib';
import { buildApp, memoryLogger, tempDir } from './helpers';

const saved = { db: process.env.OAUTH_DB, issuer: process.env.OAUTH_ISSUER };
let dir: string;
let cleanup: () => void;
let database: string;

beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  database = join(dir, 'oauth.sqlite');
  process.env.OAUTH_DB = database;
  process.env.OAUTH_ISSUER = 'https://zero.test';
});

afterEach(async () => {
  await closeDefaultOAuth();
  for (const [name, value] of [['OAUTH_DB', saved.db], ['OAUTH_ISSUER', saved.issuer]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  cleanup();
});

/** The README's minimal app: bare tokenRouter(), bare guards, the JSON error handler. */
function zeroConfigApp(): Express {
  const app = express();
  app.use(tokenRouter());
  app.get('/api/items', requireScope('read'), (req, res) => void res.json({ auth: req.auth }));
  app.post('/api/items', requireScope('write'), (_req, res) => void res.status(201).json({ ok: true }));
  app.use(oauthErrorHandler());
  return app;
}

async function token(app: Express, id: string, secret: string, scope?: string): Promise<string> {
  const res = await request(app).post('/oauth/token').auth(id, secret).type('form').send({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) });
  expect(res.status).toBe(200);
  return res.body.access_token as string;
}

describe('zero-config default instance', () => {
  it('pairs a bare requireScope() with a bare tokenRouter() in the same process, configured from OAUTH_DB and OAUTH_ISSUER', async () => {
    const app = zeroConfigApp();
    expect(existsSync(database)).toBe(true);
    const { client, clientSecret } = await defaultOAuth().registry.create({ name: 'svc', scopes: 'read' });
    const accessToken = await token(app, client.id, clientSecret);
    expect(jwt.decode(accessToken)).toMatchObject({ iss: 'https://zero.test', aud: 'https://zero.test', scope: 'read' });

    const read = await request(app).get('/api/items').set('Authorization', `Bearer ${accessToken}`);
    expect(read.status).toBe(200);
    expect(read.body.auth).toMatchObject({ clientId: client.id, scopes: ['read'] });

    const write = await request(app).post('/api/items').set('Authorization', `Bearer ${accessToken}`);
    expect(write.status).toBe(403);
    expect(write.headers['www-authenticate']).toBe(
      'Bearer realm="oauth", error="insufficient_scope", error_description="this resource needs the scopes write", scope="write"',
    );
  });

  it('opens nothing when a guard is defined, and the default instance on its first request', async () => {
    const guard = requireScope('read');
    expect(existsSync(database)).toBe(false);
    const app = express().get('/api/items', guard, (_req, res) => void res.end()).use(oauthErrorHandler());
    const res = await request(app).get('/api/items');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="oauth"');
    expect(existsSync(database)).toBe(true);
  });

  it('throws TypeError when a bare guard is defined with a bad scope or option, before any request', () => {
    expect(() => requireScope('read write')).toThrow(TypeError);
    expect(() => (requireScope.any as (...args: unknown[]) => unknown)()).toThrow(TypeError);
    expect(() => requireScope('read', { allowBodyToken: 'yes' as never })).toThrow(TypeError);
    expect(existsSync(database)).toBe(false);
  });

  it('takes explicit options over the environment, once', async () => {
    const options = { issuer: 'https://explicit.test', bcryptCost: 4, logger: memoryLogger() };
    const app = express().use(tokenRouter(options));
    expect(() => tokenRouter({ issuer: 'https://second.test' })).toThrow(TypeError);
    expect(defaultOAuth(options)).toBe(defaultOAuth());
    const { client, clientSecret } = await defaultOAuth().registry.create({ name: 'svc', scopes: 'read' });
    expect(jwt.decode(await token(app, client.id, clientSecret))).toMatchObject({ iss: 'https://explicit.test' });
  });

  it('treats an option given as undefined as not given, so OAUTH_DB still applies', () => {
    const oauth = defaultOAuth({ database: undefined, issuer: undefined, bcryptCost: 4, logger: memoryLogger() });
    expect(oauth.server.options.database).toBe(database);
    expect(oauth.server.options.issuer).toBe('https://zero.test');
  });

  it('rejects an invalid OAUTH_ISSUER with a TypeError when the instance is created', () => {
    process.env.OAUTH_ISSUER = 'http://auth.example.com';
    expect(() => tokenRouter()).toThrow('issuer must use https (http is allowed only for localhost)');
  });

  it('answers a bare server_error and logs why when a guard-only app cannot create the default instance', async () => {
    process.env.OAUTH_ISSUER = 'http://auth.example.com';
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const app = express().get('/api/items', requireScope('read'), (_req, res) => void res.end()).use(oauthErrorHandler());
      const res = await request(app).get('/api/items');
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: 'server_error' });
      expect(logged).toHaveBeenCalledWith(
        '[express-client-credentials] the default instance could not be created',
        'issuer must use https (http is allowed only for localhost)',
      );
    } finally {
      logged.mockRestore();
    }
  });

  it('forgets the instance on closeDefaultOAuth(): the next use reads the environment again', async () => {
    const first = defaultOAuth({ bcryptCost: 4, logger: memoryLogger() });
    expect(first.server.options.database).toBe(database);
    await closeDefaultOAuth();
    process.env.OAUTH_DB = join(dir, 'second.sqlite');
    const second = defaultOAuth({ bcryptCost: 4, logger: memoryLogger() });
    expect(second).not.toBe(first);
    expect(second.server.options.database).toBe(join(dir, 'second.sqlite'));
  });

  it('keeps the default instance and an explicit createOAuth() instance apart: neither accepts the other one tokens', async () => {
    defaultOAuth({ bcryptCost: 4, logger: memoryLogger() });
    const app = zeroConfigApp();
    const explicit = await buildApp({ issuer: 'https://zero.test' });
    try {
      const { id, secret } = await explicit.createClient('read');
      const foreign = await explicit.tokenFor(id, secret);
      const res = await request(app).get('/api/items').set('Authorization', `Bearer ${foreign}`);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'invalid_token', error_description: 'the access token was signed with an unknown key' });

      const { client, clientSecret } = await defaultOAuth().registry.create({ name: 'svc', scopes: 'read' });
      const own = await token(app, client.id, clientSecret);
      expect((await request(explicit.app).get('/api/items').set('Authorization', `Bearer ${own}`)).status).toBe(401);
    } finally {
      await explicit.close();
    }
  });
});
