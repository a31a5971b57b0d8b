// healthRouter(): liveness always 200; readiness 200 when the store answers and a signing key is loaded, else 503 without detail.
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { createOAuth, createResourceServer } from '../../lib';
import { SqliteStore } from '../../lib/store/sqlite';
import { StoreError, type Store } from '../../lib/store';
import { memoryLogger, tempDir } from '../helpers';
import { listen, startIssuer } from '../remote-helpers';

const cleanups: (() => Promise<void> | void)[] = [];
const SLOW_MACHINE_MS = 30_000;
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An instance over `store` (default: a fresh SQLite file) with only the health router mounted. */
function healthApp(wrap: (store: SqliteStore) => Store = (s) => s) {
  const { dir, cleanup } = tempDir();
  const sqlite = SqliteStore.open(join(dir, 'oauth.sqlite'), {});
  const logger = memoryLogger();
  const oauth = createOAuth({ issuer: 'https://auth.example', store: wrap(sqlite), logger });
  cleanups.push(cleanup, async () => {
    await oauth.close();
    if (sqlite.db.open) sqlite.db.close();
  });
  // A fresh database's first readiness probe generates the signing key (RSA-2048): give it the time a loaded
  // machine needs, so only the checks under test decide the outcome.
  return { app: express().use(oauth.healthRouter({ checkTimeout: SLOW_MACHINE_MS })), sqlite, logger, oauth };
}

/** The same store with some methods replaced (the others keep `this`). */
function withOverrides(store: SqliteStore, overrides: Partial<Store>): Store {
  return Object.assign(Object.create(store) as Store, overrides);
}

describe('health router', () => {
  it('answers liveness with 200 and no caching', async () => {
    const { app } = healthApp();
    const res = await request(app).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('is ready when the store answers ping() and a signing key is loaded', async () => {
    const { app } = healthApp();
    const res = await request(app).get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', checks: { store: 'ok', signing_key: 'ok' } });
  });

  it('answers 503 naming the failed checks, without the error text, when the database is gone', async () => {
    const { app, sqlite, logger } = healthApp();
    sqlite.db.close();
    const res = await request(app).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: 'unavailable', checks: { store: 'failed', signing_key: 'failed' } });
    expect(JSON.stringify(res.body)).not.toMatch(/closed/);
    expect(logger.lines.filter((l) => l.startsWith('error readiness check store failed'))).toHaveLength(1);
    // Logged when readiness is lost, not on every probe.
    await request(app).get('/readyz');
    expect(logger.lines.filter((l) => l.startsWith('error readiness check store failed'))).toHaveLength(1);
    // Liveness does not depend on the database.
    expect((await request(app).get('/healthz')).status).toBe(200);
  });

  it('answers 503 when no signing key can be loaded though the store answers', async () => {
    const fail = () => Promise.reject(new StoreError('unavailable', 'keys unreadable'));
    const { app } = healthApp((s) => withOverrides(s, { listSigningKeys: fail, ensureSigningKey: fail }));
    const res = await request(app).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.checks).toEqual({ store: 'ok', signing_key: 'failed' });
  });

  it('becomes ready again once the store answers', async () => {
    let down = true;
    const { app } = healthApp((s) => withOverrides(s, { ping: () => (down ? Promise.reject(new StoreError('unavailable', 'down')) : s.ping()) }));
    expect((await request(app).get('/readyz')).status).toBe(503);
    down = false;
    expect((await request(app).get('/readyz')).status).toBe(200);
  });

  it('serves the paths it is given and refuses bad ones when built', async () => {
    const { oauth } = healthApp();
    const app = express().use(oauth.healthRouter({ livenessPath: '/live', readinessPath: '/ready', checkTimeout: SLOW_MACHINE_MS }));
    expect((await request(app).get('/live')).status).toBe(200);
    expect((await request(app).get('/ready')).status).toBe(200);
    expect(() => oauth.healthRouter({ livenessPath: 'live' })).toThrow(TypeError);
    expect(() => oauth.healthRouter({ livenessPath: '/x', readinessPath: '/x' })).toThrow(TypeError);
    expect(() => oauth.healthRouter({ checkTimeout: 0 })).toThrow(TypeError);
  });
});

describe('health router of a resource server', () => {
  it('is ready once the issuer\'s metadata and keys can be fetched, 503 while they cannot', async () => {
    const iss = await startIssuer();
    cleanups.push(() => iss.close());
    const up = createResourceServer({ issuer: iss.issuer, audience: 'https://orders.example', logger: memoryLogger() });
    cleanups.push(() => up.close());
    const ready = await request(express().use(up.healthRouter())).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ok', checks: { issuer: 'ok' } });

    const gone = await listen();
    await gone.close(); // a port nothing listens on any more
    const down = createResourceServer({ issuer: gone.url, audience: 'https://orders.example', logger: memoryLogger() });
    cleanups.push(() => down.close());
    const res = await request(express().use(down.healthRouter())).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: 'unavailable', checks: { issuer: 'failed' } });
  });
});
