// PostgreSQL faults as a client sees them: an unreachable database or killed connections give 503 temporarily_unavailable with Retry-After (never a 500 or a hang), the guard keeps verifying JWTs from memory, and service resumes by itself.
import express from 'express';
import request from 'supertest';
import { buildApp, type TestApp } from '../helpers';
import { PG_URL, freshSchema, pgAvailable } from '../support/stores';
import { startProxy, type TcpProxy } from '../support/tcp-proxy';

const available = pgAvailable();
const describePg = available ? describe : describe.skip;
const GRANT = { grant_type: 'client_credentials' };

/** The test database's URL with another host:port, a schema and an application name. */
function urlFor(schema: string, port?: number): string {
  const url = new URL(PG_URL as string);
  if (port !== undefined) {
    url.hostname = '127.0.0.1';
    url.port = String(port);
  }
  url.searchParams.set('options', `-c search_path=${schema}`);
  url.searchParams.set('application_name', schema);
  return url.toString();
}

/** Retries `attempt` until it returns true, at most `tries` times `pauseMs` apart (a bound on the wait, not a timing assertion). */
async function eventually(attempt: () => Promise<boolean>, tries = 100, pauseMs = 100): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await attempt()) return true;
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  return false;
}

describePg('PostgreSQL faults', () => {
  let db: Awaited<ReturnType<typeof freshSchema>>;
  let t: TestApp;
  let proxy: TcpProxy | undefined;
  beforeEach(async () => {
    db = await freshSchema();
  });
  afterEach(async () => {
    await t.close();
    await proxy?.close();
    proxy = undefined;
    await db.drop();
  });

  it('answers 503 with Retry-After while the database is unreachable, keeps verifying JWTs from memory, and recovers by itself (RFC 6749 §5.2)', async () => {
    const url = new URL(PG_URL as string);
    proxy = await startProxy(url.hostname, Number(url.port || 5432));
    t = await buildApp({ database: urlFor(db.schema, proxy.port) });
    await t.oauth.ready();
    const { id, secret } = await t.createClient('read');
    const token = await t.tokenFor(id, secret);
    expect((await request(t.app).get('/api/items').auth(token, { type: 'bearer' })).status).toBe(200);

    const health = express().use(t.oauth.healthRouter());
    expect((await request(health).get('/readyz')).status).toBe(200);

    await proxy.down();
    // Readiness says the store is gone, so a load balancer can take this instance out.
    const notReady = await request(health).get('/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.body.checks.store).toBe('failed');
    for (let i = 0; i < 3; i++) {
      const guarded = await request(t.app).get('/api/items').auth(token, { type: 'bearer' });
      expect(guarded.status).toBe(200);
    }
    const refused = await request(t.app).post('/oauth/token').auth(id, secret).type('form').send(GRANT);
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({ error: 'temporarily_unavailable', error_description: 'the database is unavailable; try again' });
    expect(refused.headers['retry-after']).toBe('2');
    expect(refused.text).not.toMatch(/ECONN|postgres|127\.0\.0\.1/i);

    await proxy.up();
    const recovered = await eventually(async () => {
      const res = await request(t.app).post('/oauth/token').auth(id, secret).type('form').send(GRANT);
      return res.status === 200;
    });
    expect(recovered).toBe(true);
    expect((await request(health).get('/readyz')).status).toBe(200);
  });

  it('answers 200 or 503, never 500, when the pool\'s connections are killed under a burst of requests, and serves again afterwards', async () => {
    t = await buildApp({ database: urlFor(db.schema) });
    await t.oauth.ready();
    const { id, secret } = await t.createClient('read');
    const token = await t.tokenFor(id, secret);
    // Warm: the guard has checked this client's token once (it then needs no database).
    expect((await request(t.app).get('/api/items').auth(token, { type: 'bearer' })).status).toBe(200);
    // A returning client's row is kept in memory, so each wave's token requests come from a client
    // seen for the first time: their row reads are the queries that meet the killed connections.
    const waveClients = await Promise.all(Array.from({ length: 6 }, () => t.createClient('read')));
    const kill = async () => {
      const { rows } = await db.admin.query<{ killed: boolean }>(
        'SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = $1',
        [db.schema],
      );
      return rows.filter((r) => r.killed).length;
    };

    // Requests go out in waves while the pool's backends are killed between them, so some queries
    // meet a dead connection mid-flight; the loop is bounded in count.
    const tokens: request.Response[] = [];
    const guarded: request.Response[] = [];
    let killed = 0;
    for (let wave = 0; wave < 6; wave++) {
      const inFlight = Promise.all([
        Promise.all(
          Array.from({ length: 8 }, () => {
            const client = waveClients[wave] as { id: string; secret: string };
            return request(t.app).post('/oauth/token').auth(client.id, client.secret).type('form').send(GRANT);
          }),
        ),
        Promise.all(Array.from({ length: 8 }, () => request(t.app).get('/api/items').auth(token, { type: 'bearer' }))),
      ]);
      killed += await kill();
      const [issued, checked] = await inFlight;
      tokens.push(...issued);
      guarded.push(...checked);
    }
    expect(killed).toBeGreaterThan(0);
    for (const res of tokens) {
      expect([200, 503]).toContain(res.status);
      if (res.status === 503) {
        expect(res.body.error).toBe('temporarily_unavailable');
        expect(res.headers['retry-after']).toBeDefined();
      }
    }
    // The guard needs no database once warm.
    expect(guarded.map((res) => res.status)).toEqual(guarded.map(() => 200));

    const recovered = await eventually(async () => {
      const res = await request(t.app).post('/oauth/token').auth(id, secret).type('form').send(GRANT);
      return res.status === 200;
    });
    expect(recovered).toBe(true);
  });
});
