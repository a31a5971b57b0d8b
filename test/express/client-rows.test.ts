// A returning client's token request reads no client row once warm (issue 16.2), and a change any instance makes to the client still ends what it must: at once on SQLite, by the notification on PostgreSQL.
import express, { type Express } from 'express';
import request from 'supertest';
import { join } from 'node:path';
import { createOAuth, oauthErrorHandler, type OAuth } from '../../lib';
import { ClientRegistry } from '../../lib/core';
import { SqliteStore } from '../../lib/store/sqlite';
import type { Store } from '../../lib/store';
import { ISSUER, memoryLogger, tempDir } from '../helpers';
import { freshSchema, openPgStore, pgAvailable } from '../support/stores';

const INVALID_CLIENT = { error: 'invalid_client', error_description: 'client authentication failed' };
const DISABLED = { error: 'unauthorized_client', error_description: 'the client is disabled' };
/** Longer than any test: a change another process makes must not wait for the poll to be heard. */
const NO_POLL = 3_600_000;

function appOf(oauth: OAuth): Express {
  const app = express();
  app.use(oauth.tokenRouter());
  app.use(oauthErrorHandler());
  return app;
}

function tokenRequest(app: Express, id: string, secret: string) {
  return request(app).post('/oauth/token').auth(id, secret).type('form').send({ grant_type: 'client_credentials' });
}

/** Retries `attempt` until it resolves true, for at most `ms` (a notification is on its way). */
async function eventually(attempt: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await attempt()) return true;
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('client rows on the token path (SQLite)', () => {
  let dir: ReturnType<typeof tempDir>;
  let oauth: OAuth;
  let app: Express;
  let other: Store;
  let otherRegistry: ClientRegistry;

  beforeEach(async () => {
    dir = tempDir();
    const database = join(dir.dir, 'oauth.sqlite');
    oauth = createOAuth({ issuer: ISSUER, database, bcryptCost: 4, logger: memoryLogger(), syncInterval: NO_POLL });
    await oauth.ready();
    app = appOf(oauth);
    // A second store object on the same file: another process (an instance, the CLI).
    other = SqliteStore.open(database);
    otherRegistry = new ClientRegistry(other, { bcryptCost: 4, clock: Date.now });
  });
  afterEach(async () => {
    await other.close();
    await oauth.close();
    dir.cleanup();
  });

  it('answers a returning client without reading its row again while nothing changed', async () => {
    const { client, clientSecret } = await oauth.registry.create({ name: 'returning', scopes: 'read' });
    expect((await tokenRequest(app, client.id, clientSecret)).status).toBe(200);
    const reads = jest.spyOn(oauth.server.store, 'getClient');
    try {
      for (let i = 0; i < 3; i++) expect((await tokenRequest(app, client.id, clientSecret)).status).toBe(200);
      expect(reads).not.toHaveBeenCalled();
    } finally {
      reads.mockRestore();
    }
  });

  it('refuses the old secret on the very next request after another process rotates it (RFC 6749 §2.3.1)', async () => {
    const { client, clientSecret } = await oauth.registry.create({ name: 'returning', scopes: 'read' });
    expect((await tokenRequest(app, client.id, clientSecret)).status).toBe(200);
    const { clientSecret: fresh } = await otherRegistry.rotateSecret(client.id);
    const refused = await tokenRequest(app, client.id, clientSecret);
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual(INVALID_CLIENT);
    expect((await tokenRequest(app, client.id, fresh)).status).toBe(200);
  });

  it('refuses a client on the very next request after another process disables it', async () => {
    const { client, clientSecret } = await oauth.registry.create({ name: 'returning', scopes: 'read' });
    expect((await tokenRequest(app, client.id, clientSecret)).status).toBe(200);
    await otherRegistry.setEnabled(client.id, false);
    const refused = await tokenRequest(app, client.id, clientSecret);
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual(DISABLED);
  });

  it('grants the scopes another process gives or takes on the very next request (RFC 6749 §3.3)', async () => {
    const { client, clientSecret } = await oauth.registry.create({ name: 'returning', scopes: 'read' });
    const scoped = (scope: string) =>
      request(app).post('/oauth/token').auth(client.id, clientSecret).type('form').send({ grant_type: 'client_credentials', scope });
    expect((await scoped('write')).body.error).toBe('invalid_scope');
    await otherRegistry.update(client.id, { scopes: 'read write' });
    expect((await scoped('write')).status).toBe(200);
  });
});

const describePg = pgAvailable() ? describe : describe.skip;

describePg('client rows on the token path (PostgreSQL, two instances)', () => {
  let db: Awaited<ReturnType<typeof freshSchema>>;
  let a: OAuth;
  let b: OAuth;
  let appA: Express;

  beforeEach(async () => {
    db = await freshSchema();
    a = createOAuth({ issuer: ISSUER, store: openPgStore(db.schema), bcryptCost: 4, logger: memoryLogger(), syncInterval: NO_POLL });
    b = createOAuth({ issuer: ISSUER, store: openPgStore(db.schema), bcryptCost: 4, logger: memoryLogger(), syncInterval: NO_POLL });
    await Promise.all([a.ready(), b.ready()]);
    appA = appOf(a);
  });
  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
    await db.drop();
  });

  /** Until instance a's LISTEN connection is up, every request reads the row: wait for it. */
  async function warm(id: string, secret: string): Promise<void> {
    const reads = jest.spyOn(a.server.store, 'getClient');
    try {
      expect(
        await eventually(async () => {
          reads.mockClear();
          expect((await tokenRequest(appA, id, secret)).status).toBe(200);
          return reads.mock.calls.length === 0;
        }),
      ).toBe(true);
    } finally {
      reads.mockRestore();
    }
  }

  it('sends no query for a returning client once warm (no per-request network I/O)', async () => {
    const { client, clientSecret } = await b.registry.create({ name: 'returning', scopes: 'read' });
    await warm(client.id, clientSecret);
    const queries = jest.spyOn((a.server.store as unknown as { pool: { query: (...args: unknown[]) => unknown } }).pool, 'query');
    const reads = jest.spyOn(a.server.store, 'getClient');
    try {
      for (let i = 0; i < 3; i++) expect((await tokenRequest(appA, client.id, clientSecret)).status).toBe(200);
      expect(reads).not.toHaveBeenCalled();
      expect(queries).not.toHaveBeenCalled();
    } finally {
      reads.mockRestore();
      queries.mockRestore();
    }
  });

  it("refuses a client another instance disabled once its notification arrives, and this instance's own change at once", async () => {
    const first = await b.registry.create({ name: 'first', scopes: 'read' });
    const second = await b.registry.create({ name: 'second', scopes: 'read' });
    await warm(first.client.id, first.clientSecret);
    await warm(second.client.id, second.clientSecret);
    await b.registry.setEnabled(first.client.id, false);
    expect(
      await eventually(async () => (await tokenRequest(appA, first.client.id, first.clientSecret)).status === 400),
    ).toBe(true);
    expect((await tokenRequest(appA, first.client.id, first.clientSecret)).body).toEqual(DISABLED);
    await a.registry.setEnabled(second.client.id, false);
    expect((await tokenRequest(appA, second.client.id, second.clientSecret)).body).toEqual(DISABLED);
  });

  it('refuses the old secret once the notification of its rotation by another instance arrives (RFC 6749 §2.3.1)', async () => {
    const { client, clientSecret } = await b.registry.create({ name: 'returning', scopes: 'read' });
    await warm(client.id, clientSecret);
    const { clientSecret: fresh } = await b.registry.rotateSecret(client.id);
    expect(await eventually(async () => (await tokenRequest(appA, client.id, clientSecret)).status === 401)).toBe(true);
    expect((await tokenRequest(appA, client.id, fresh)).status).toBe(200);
  });
});
