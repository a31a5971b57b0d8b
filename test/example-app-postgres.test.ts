// The example app on PostgreSQL (`OAUTH_DB=postgres://... npm start`): it migrates a fresh schema, creates the demo client, serves the flow, and prints the URL without its password.
import request from 'supertest';
import type * as Library from '../lib';
import { freshSchema, pgAvailable, PG_URL } from './support/stores';

interface ExampleApp {
  start(context: { env: Record<string, string | undefined>; print: (line: string) => void; auditLog?: { write(line: string): unknown } }): Promise<{
    url: string;
    demo?: { clientId: string; clientSecret: string };
    close(): Promise<void>;
  }>;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const example = require('../example-app/app') as ExampleApp;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { closeDefaultOAuth, defaultOAuth } = require('express-client-credentials') as typeof Library;

const available = pgAvailable();
const describePg = available ? describe : describe.skip;

describePg('example app on PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof freshSchema>>;
  beforeEach(async () => {
    db = await freshSchema();
  });
  afterEach(async () => {
    await closeDefaultOAuth();
    await db.drop();
  });

  it('starts on OAUTH_DB=postgres://..., registers the demo client and serves a token and the items route', async () => {
    const url = new URL(PG_URL as string);
    url.password = 'not-printed';
    url.searchParams.set('options', `-c search_path=${db.schema}`);
    const lines: string[] = [];
    // trust auth ignores the password; the point is that it is never printed.
    const service = await example.start({ env: { PORT: '0', OAUTH_DB: url.toString() }, print: (line) => lines.push(line), auditLog: { write: () => true } });
    try {
      expect(lines[0]).toMatch(/^items service listening on http:\/\/localhost:\d+ \(database postgres:\/\/postgres:\*\*\*@/);
      expect(lines.join('\n')).not.toContain('not-printed');
      const demo = service.demo!;
      const token = await request(service.url).post('/oauth/token').auth(demo.clientId, demo.clientSecret).type('form').send({ grant_type: 'client_credentials' });
      expect(token.status).toBe(200);
      const items = await request(service.url).get('/api/items').auth(token.body.access_token as string, { type: 'bearer' });
      expect(items.status).toBe(200);
      expect(items.body).toEqual({ items: [] });
      const { rows } = await db.admin.query(`SELECT count(*)::int AS n FROM ${db.schema}.clients`);
      expect(rows[0].n).toBe(1);
    } finally {
      await service.close();
    }
  });

  it('counts the failure limits in OAUTH_LIMITS_POSTGRES, in the ecc_auth_limits table of that database', async () => {
    const url = new URL(PG_URL as string);
    url.searchParams.set('options', `-c search_path=${db.schema}`);
    const service = await example.start({
      env: { PORT: '0', OAUTH_DB: url.toString(), OAUTH_LIMITS_POSTGRES: url.toString() },
      print: () => {},
      auditLog: { write: () => true },
    });
    try {
      const demo = service.demo!;
      const refused = await request(service.url).post('/oauth/token').auth(demo.clientId, 'wrong').type('form').send({ grant_type: 'client_credentials' });
      expect(refused.status).toBe(401);
      const { rows } = await db.admin.query(`SELECT key FROM ${db.schema}.ecc_auth_limits`);
      expect(rows.map((row: { key: string }) => row.key)).toEqual(expect.arrayContaining([expect.stringMatching(/^ecc:auth:address:/)]));
    } finally {
      await service.close();
    }
  });

  it('refuses to start with both OAUTH_LIMITS_REDIS and OAUTH_LIMITS_POSTGRES set', async () => {
    await expect(
      example.start({ env: { PORT: '0', OAUTH_LIMITS_REDIS: 'redis://127.0.0.1:6379', OAUTH_LIMITS_POSTGRES: PG_URL as string }, print: () => {} }),
    ).rejects.toThrow('set one of OAUTH_LIMITS_REDIS and OAUTH_LIMITS_POSTGRES, not both');
  });

  it('opens OAUTH_DB=postgres://... for the zero-config default instance', async () => {
    const url = new URL(PG_URL as string);
    url.searchParams.set('options', `-c search_path=${db.schema}`);
    const saved = process.env.OAUTH_DB;
    process.env.OAUTH_DB = url.toString();
    try {
      const oauth = defaultOAuth({ bcryptCost: 4, logger: { warn: () => undefined, error: () => undefined } });
      await oauth.ready();
      const { client } = await oauth.registry.create({ name: 'from env', scopes: 'read' });
      const { rows } = await db.admin.query(`SELECT name FROM ${db.schema}.clients WHERE id = $1`, [client.id]);
      expect(rows).toEqual([{ name: 'from env' }]);
    } finally {
      if (saved === undefined) delete process.env.OAUTH_DB;
      else process.env.OAUTH_DB = saved;
    }
  });
});
