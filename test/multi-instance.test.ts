// Two server processes on one PostgreSQL schema: a client disabled through one, and a token revoked through one, are refused by the other within one second (LISTEN/NOTIFY deltas); failure limits reached through one hold on the other (Redis, or PostgreSQL).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import request from 'supertest';
import type Redis from 'ioredis';
import { ClientRegistry } from '../lib/core';
import { dropKeys, readyRedis, REDIS_URL } from './redis-helpers';
import { freshSchema, openPgStore, pgAvailable, PG_URL } from './support/stores';

const available = pgAvailable();
const describePg = available ? describe : describe.skip;
const FIXTURE = join(__dirname, 'fixtures', 'pg-instance.js');
const GRANT = { grant_type: 'client_credentials' };
/** The promise of issue 12: a change made through one instance is enforced by every other within this. */
const PROPAGATION_BOUND_MS = 1000;

interface Instance {
  url: string;
  child: ChildProcess;
}

/** Starts the fixture server on a random loopback port; resolves once it listens. */
function startInstance(database: string, env: Record<string, string> = {}): Promise<Instance> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FIXTURE], {
      env: { PATH: process.env.PATH ?? '', OAUTH_DB: database, ...env },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const timer = setTimeout(() => reject(new Error('instance did not start')), 15_000);
    child.once('exit', (code) => reject(new Error(`instance exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve({ url: `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`, child });
    });
  });
}

function stopInstance(instance: Instance): Promise<void> {
  return new Promise((resolve) => {
    if (instance.child.exitCode !== null) return resolve();
    const kill = setTimeout(() => instance.child.kill('SIGKILL'), 5000);
    instance.child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    instance.child.stdin?.end();
  });
}

/** Polls `refused` until it holds or `PROPAGATION_BOUND_MS` has passed since `since`; resolves with the elapsed ms or undefined. */
async function refusedWithinBound(since: number, refused: () => Promise<boolean>): Promise<number | undefined> {
  while (Date.now() - since <= PROPAGATION_BOUND_MS) {
    if (await refused()) return Date.now() - since;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return undefined;
}

describePg('several instances on one PostgreSQL schema', () => {
  let db: Awaited<ReturnType<typeof freshSchema>>;
  let a: Instance;
  let b: Instance;
  let admin: { id: string; secret: string };
  let services: { id: string; secret: string }[];
  let schemaUrl: string;

  beforeAll(async () => {
    db = await freshSchema();
    const store = openPgStore(db.schema);
    try {
      const registry = new ClientRegistry(store, { bcryptCost: 4, clock: Date.now });
      const made = await Promise.all([
        registry.create({ name: 'operator', scopes: 'oauth:admin' }),
        registry.create({ name: 'svc-1', scopes: 'read' }),
        registry.create({ name: 'svc-2', scopes: 'read' }),
      ]);
      const [op, ...rest] = made.map((m) => ({ id: m.client.id, secret: m.clientSecret }));
      admin = op!;
      services = rest;
    } finally {
      await store.close();
    }
    const url = new URL(PG_URL as string);
    url.searchParams.set('options', `-c search_path=${db.schema}`);
    schemaUrl = url.toString();
    [a, b] = await Promise.all([startInstance(schemaUrl), startInstance(schemaUrl)]);
  });
  afterAll(async () => {
    await Promise.all([a, b].filter(Boolean).map(stopInstance));
    await db?.drop();
  });

  const tokenFrom = async (instance: Instance, client: { id: string; secret: string }) => {
    const res = await request(instance.url).post('/oauth/token').auth(client.id, client.secret).type('form').send(GRANT);
    expect(res.status).toBe(200);
    return res.body.access_token as string;
  };

  it('refuses a client disabled through one instance at the other instance\'s guard and token endpoint within one second', async () => {
    const svc = services[0]!;
    const token = await tokenFrom(a, svc);
    expect((await request(b.url).get('/api/items').auth(token, { type: 'bearer' })).status).toBe(200);

    const adminToken = await tokenFrom(a, admin);
    const disabled = await request(a.url).patch(`/admin/clients/${svc.id}`).auth(adminToken, { type: 'bearer' }).send({ enabled: false });
    expect(disabled.status).toBe(200);
    const since = Date.now();
    const elapsed = await refusedWithinBound(since, async () => (await request(b.url).get('/api/items').auth(token, { type: 'bearer' })).status === 401);
    expect(elapsed).toBeDefined();
    const refused = await request(b.url).get('/api/items').auth(token, { type: 'bearer' });
    expect(refused.headers['www-authenticate']).toContain('error="invalid_token"');
    const noToken = await request(b.url).post('/oauth/token').auth(svc.id, svc.secret).type('form').send(GRANT);
    expect(noToken.status).toBeGreaterThanOrEqual(400);
    expect(noToken.body.error).toMatch(/invalid_client|unauthorized_client/);
  });

  it('refuses a token revoked through one instance (RFC 7009) at the other instance\'s guard within one second', async () => {
    const svc = services[1]!;
    const token = await tokenFrom(b, svc);
    const other = await tokenFrom(b, svc);
    expect((await request(b.url).get('/api/items').auth(token, { type: 'bearer' })).status).toBe(200);

    const revoked = await request(a.url).post('/oauth/revoke').auth(svc.id, svc.secret).type('form').send({ token });
    expect(revoked.status).toBe(200);
    const since = Date.now();
    const elapsed = await refusedWithinBound(since, async () => (await request(b.url).get('/api/items').auth(token, { type: 'bearer' })).status === 401);
    expect(elapsed).toBeDefined();
    // Only that token: the client's other token still works on both.
    expect((await request(b.url).get('/api/items').auth(other, { type: 'bearer' })).status).toBe(200);
    expect((await request(a.url).get('/api/items').auth(other, { type: 'bearer' })).status).toBe(200);
  });

  /** Where the two processes share their failure counters, and how a test seeds one. */
  interface LimitsBackend {
    name: string;
    available: boolean;
    /** The environment that points a process at the backend, for this test's own key prefix. */
    env(prefix: string): Promise<Record<string, string>>;
    /** Sets the back-off rounds counted for `clientId` within the hour. */
    seedBackoff(prefix: string, clientId: string, rounds: number): Promise<void>;
    cleanup(prefix: string): Promise<void>;
  }

  const redisLimits = (): LimitsBackend => {
    let redis: Redis | undefined;
    return {
      name: 'Redis',
      available: REDIS_URL !== undefined,
      async env() {
        redis = await readyRedis(REDIS_URL as string);
        return { OAUTH_LIMITS_REDIS: REDIS_URL as string };
      },
      async seedBackoff(prefix, clientId, rounds) {
        await (redis as Redis).set(`${prefix}:backoff:${clientId}`, String(rounds), 'EX', 3600);
      },
      async cleanup(prefix) {
        if (!redis) return;
        await dropKeys(redis, prefix);
        await redis.quit();
      },
    };
  };

  // The counters' table lives in the test's schema (the URL's search_path), dropped with it.
  const postgresLimits = (): LimitsBackend => ({
    name: 'PostgreSQL',
    available,
    async env() {
      return { OAUTH_LIMITS_POSTGRES: schemaUrl };
    },
    async seedBackoff(prefix, clientId, rounds) {
      await db.admin.query(
        `CREATE UNLOGGED TABLE IF NOT EXISTS ${db.schema}.ecc_auth_limits (key varchar(255) PRIMARY KEY, points integer NOT NULL DEFAULT 0, expire bigint)`,
      );
      await db.admin.query(`INSERT INTO ${db.schema}.ecc_auth_limits VALUES ($1, $2, $3)`, [`${prefix}:backoff:${clientId}`, rounds, Date.now() + 3_600_000]);
    },
    async cleanup() {},
  });

  describe.each([redisLimits(), postgresLimits()])('with failure limits shared through $name (limiterStore)', (backend) => {
    const run = backend.available ? it : it.skip;
    /** Failed authentications of one client_id per window before it backs off, in both processes. */
    const CLIENT_LIMIT = 3;
    /** The longest back-off, which the seeded history below makes this round's back-off. */
    const MAX_BACKOFF_SECONDS = 600;
    let prefix: string;
    let guessed: { id: string; secret: string };
    let limitedA: Instance;
    let limitedB: Instance;

    beforeAll(async () => {
      if (!backend.available) return;
      // This test's own keys, removed afterwards: nothing it counts reaches another run or test.
      prefix = `ecc-test:${randomBytes(6).toString('hex')}`;
      const store = openPgStore(db.schema);
      try {
        const made = await new ClientRegistry(store, { bcryptCost: 4, clock: Date.now }).create({ name: 'guessed', scopes: 'read' });
        guessed = { id: made.client.id, secret: made.clientSecret };
      } finally {
        await store.close();
      }
      // A first back-off lasts 1 s on the backend's clock, which this test cannot hold still: the id is
      // given ten earlier back-offs within the hour, so this one is the longest (clientMaxBackoff) and
      // what follows does not race the clock. The key is where the limiter counts back-off rounds.
      const backendEnv = await backend.env(prefix);
      await backend.seedBackoff(prefix, guessed.id, 10);
      const env = {
        ...backendEnv,
        OAUTH_LIMITS_PREFIX: prefix,
        OAUTH_CLIENT_FAILURE_LIMIT: String(CLIENT_LIMIT),
        OAUTH_CLIENT_MAX_BACKOFF: String(MAX_BACKOFF_SECONDS),
      };
      [limitedA, limitedB] = await Promise.all([startInstance(schemaUrl, env), startInstance(schemaUrl, env)]);
    });
    afterAll(async () => {
      if (!backend.available) return;
      await Promise.all([limitedA, limitedB].filter(Boolean).map(stopInstance));
      await backend.cleanup(prefix);
    });

    run('refuses, on one instance, a client_id whose failure limit was reached through the other, even with the right secret, while its back-off holds (429, RFC 6749 §2.3.1, RFC 6585 §4)', async () => {
      const token = (instance: Instance, secret: string) =>
        request(instance.url).post('/oauth/token').auth(guessed.id, secret).type('form').send(GRANT);
      for (let i = 1; i <= CLIENT_LIMIT; i++) {
        const wrong = await token(limitedA, `wrong-${i}`);
        expect(wrong.status).toBe(401);
        expect(wrong.body.error).toBe('invalid_client');
      }
      // B has seen no failure itself: only the shared counters can refuse this.
      const next = await token(limitedB, 'wrong-next');
      expect(next.status).toBe(429);
      expect(next.body).toEqual({
        error: 'invalid_client',
        error_description: expect.stringMatching(/^too many failed client authentications from this client_id; retry after \d+ s$/),
      });
      const retryAfter = Number(next.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(1);
      expect(retryAfter).toBeLessThanOrEqual(MAX_BACKOFF_SECONDS);

      // The right secret, never presented to B before, waits out the back-off too: B cannot tell it
      // from a guess without running bcrypt, which the back-off exists to spare.
      const right = await token(limitedB, guessed.secret);
      expect(right.status).toBe(429);
      expect(right.body.error).toBe('invalid_client');
      expect(right.body).not.toHaveProperty('access_token');
      expect(Number(right.headers['retry-after'])).toBeGreaterThan(1);
    });
  });
});
