// Failure limits shared through Redis or PostgreSQL (lib/core/client-auth/shared-failure-limits.ts): counted once across instances, failing open to the in-memory limiter (issue 12). Needs OAUTH_TEST_REDIS_URL and OAUTH_TEST_PG_URL.
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { FailureLimiter, type FailureLimits } from '../../../lib/core/client-auth/failure-limits';
import { SharedFailureLimiter, type SharedLimitsBackend } from '../../../lib/core/client-auth/shared-failure-limits';
import { dropKeys, readyRedis, REDIS_URL } from '../../redis-helpers';
import { PG_URL, pgAvailable } from '../../support/stores';

const LIMITS: FailureLimits = {
  addressFailureLimit: 3,
  addressFailureWindow: 600,
  clientFailureLimit: 2,
  clientFailureWindow: 60,
  clientMaxBackoff: 60,
};

/** One backend for the shared suite: the option to pass, and a look at a counter as the backend holds it. */
interface Backend {
  name: string;
  available: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A fresh backend for one test: its own key prefix (and, on PostgreSQL, its own table). */
  fresh(): Promise<SharedLimitsBackend>;
  /** The points counted under `key` (prefix included), or undefined when there is no live counter. */
  points(key: string): Promise<number | undefined>;
  /** Milliseconds until `key`'s window ends. */
  msLeft(key: string): Promise<number>;
  cleanup(): Promise<void>;
}

function redisBackend(): Backend {
  let redis: Redis;
  let prefix: string;
  return {
    name: 'Redis',
    available: REDIS_URL !== undefined,
    async start() {
      // Until the client is ready the limiter counts in memory (rejectIfRedisNotReady): wait for it.
      redis = await readyRedis(REDIS_URL as string);
    },
    async stop() {
      await redis.quit();
    },
    async fresh() {
      prefix = `ecc-test:${randomBytes(6).toString('hex')}`;
      return { redis, keyPrefix: prefix };
    },
    async points(key) {
      const value = await redis.get(`${prefix}:${key}`);
      return value === null ? undefined : Number(value);
    },
    async msLeft(key) {
      return redis.pttl(`${prefix}:${key}`);
    },
    cleanup: () => dropKeys(redis, prefix),
  };
}

function postgresBackend(): Backend {
  let pool: Pool;
  let table: string;
  const row = async (key: string) =>
    (await pool.query<{ points: number; expire: string }>(`SELECT points, expire FROM "${table}" WHERE key = $1`, [`ecc:auth:${key}`])).rows[0];
  return {
    name: 'PostgreSQL',
    available: pgAvailable(),
    async start() {
      pool = new Pool({ connectionString: PG_URL, max: 4 });
    },
    async stop() {
      await pool.end();
    },
    async fresh() {
      table = `ecc_test_limits_${randomBytes(6).toString('hex')}`;
      return { postgres: pool, tableName: table };
    },
    async points(key) {
      return (await row(key))?.points;
    },
    async msLeft(key) {
      const found = await row(key);
      return found ? Number(found.expire) - Date.now() : -1;
    },
    async cleanup() {
      await pool.query(`DROP TABLE IF EXISTS "${table}"`);
    },
  };
}

/** Waits (bounded) until `ok` holds: give-backs and back-offs land without being awaited. */
async function eventually(ok: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 50 && !(await ok()); i++) await new Promise((r) => setTimeout(r, 10));
}

describe.each([redisBackend(), postgresBackend()])('shared failure limits ($name)', (backend) => {
  const run = backend.available ? it : it.skip;
  let option: SharedLimitsBackend;
  const instance = (limits = LIMITS) => new SharedFailureLimiter(limits, option, new FailureLimiter(limits, () => Date.now()));

  beforeAll(async () => {
    if (backend.available) await backend.start();
  });
  beforeEach(async () => {
    if (backend.available) option = await backend.fresh();
  });
  afterEach(async () => {
    if (backend.available) await backend.cleanup();
  });
  afterAll(async () => {
    if (backend.available) await backend.stop();
  });

  run('counts an address failure on one instance against the other (issue 12: one flood, counted once)', async () => {
    const a = instance();
    const b = instance();
    for (let i = 0; i < LIMITS.addressFailureLimit; i++) {
      const charged = await (i % 2 ? b : a).charge({ clientId: `unknown-${i}`, address: '127.0.0.7' });
      if ('limit' in charged) throw new Error('refused too early');
      charged.failed();
    }
    const refused = await b.charge({ clientId: 'another', address: '127.0.0.7' });
    expect(refused).toEqual({ limit: 'address', retryAfterSeconds: expect.any(Number) });
    // A different address is not affected.
    expect('limit' in (await a.charge({ clientId: 'another', address: '127.0.0.8' }))).toBe(false);
  });

  run('gives a successful attempt its charge back, on every instance', async () => {
    const a = instance();
    const b = instance();
    for (let i = 0; i < LIMITS.addressFailureLimit + 2; i++) {
      const charged = await (i % 2 ? b : a).charge({ clientId: 'good', address: '127.0.0.9' });
      if ('limit' in charged) throw new Error('a refunded attempt was counted');
      charged.refund();
      // refund() gives the point back without waiting (on PostgreSQL on another connection of the
      // pool than the next charge's, so not necessarily before it): let it land.
      await eventually(async () => (await backend.points('address:127.0.0.9')) === 0);
      expect(await backend.points('address:127.0.0.9')).toBe(0);
    }
  });

  run('backs a client id off once its failures from anywhere reach the limit, on every instance', async () => {
    const a = instance();
    const b = instance();
    for (let i = 0; i < LIMITS.clientFailureLimit; i++) {
      const charged = await a.charge({ clientId: 'victim', address: `127.0.1.${i}` });
      if ('limit' in charged) throw new Error('refused too early');
      charged.failed();
    }
    // failed() starts the back-off without waiting; let the block land in the backend.
    // The first back-off is 1 s: the counter's window drops from 60 s to at most 1000 ms.
    await eventually(async () => (await backend.msLeft('client:victim')) <= 1000);
    const refused = await b.charge({ clientId: 'victim', address: '127.0.2.1' });
    expect(refused).toEqual({ limit: 'client', retryAfterSeconds: 1 });
  });

  run('exempts a pair that authenticated on this instance from the client back-off, and still counts it', async () => {
    const a = instance();
    a.success({ clientId: 'victim', address: '127.0.3.1' });
    for (let i = 0; i < LIMITS.clientFailureLimit + 1; i++) {
      const charged = await a.charge({ clientId: 'victim', address: `127.0.4.${i}` });
      if ('limit' in charged) break;
      charged.failed();
    }
    expect('limit' in (await a.charge({ clientId: 'victim', address: '127.0.3.1' }))).toBe(false);
    expect(await backend.points('client:victim')).toBeGreaterThan(LIMITS.clientFailureLimit);
  });
});

/** With the backend away: the limit still holds, counted in this instance's memory, and the outage is told once. */
async function expectCountedInMemory(limiter: SharedFailureLimiter, address: string, outages: unknown[]): Promise<void> {
  for (let i = 0; i < LIMITS.addressFailureLimit; i++) {
    const charged = await limiter.charge({ clientId: `guess-${i}`, address });
    if ('limit' in charged) throw new Error('refused too early');
    charged.failed();
  }
  expect(await limiter.charge({ clientId: 'guess-x', address })).toEqual({ limit: 'address', retryAfterSeconds: 600 });
  expect(outages).toHaveLength(1);
}

describe('shared failure limits when Redis cannot answer', () => {
  it('fails open to the in-memory limiter (never a 500, never unlimited) and says so once', async () => {
    // Nothing listens on port 1: the client never becomes ready; no retries, no offline queue.
    const down = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
    const outages: unknown[] = [];
    const limiter = new SharedFailureLimiter(
      LIMITS,
      { redis: down, keyPrefix: 'ecc-test:down' },
      new FailureLimiter(LIMITS, () => 0),
      (err) => outages.push(err),
    );
    await expectCountedInMemory(limiter, '127.0.5.1', outages);
    down.disconnect();
  });
});

describe('shared failure limits when PostgreSQL cannot answer', () => {
  it('fails open to the in-memory limiter (never a 500, never unlimited) and says so once', async () => {
    // Nothing listens on port 1: every connection is refused at once.
    const down = new Pool({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 500 });
    const outages: unknown[] = [];
    const limiter = new SharedFailureLimiter(LIMITS, { postgres: down }, new FailureLimiter(LIMITS, () => 0), (err) => outages.push(err));
    await expectCountedInMemory(limiter, '127.0.5.2', outages);
    await down.end();
  });

  (pgAvailable() ? it : it.skip)('creates its table on first use after a failed attempt, without a restart', async () => {
    const pool = new Pool({ connectionString: PG_URL, max: 2 });
    const table = `ecc_test_limits_${randomBytes(6).toString('hex')}`;
    // The first query fails as an outage would; the next ones reach PostgreSQL.
    const query = pool.query.bind(pool) as (text: string) => Promise<unknown>;
    let calls = 0;
    const flaky = new Proxy(pool, {
      get: (target, name) =>
        name === 'query'
          ? (...args: unknown[]) => (calls++ === 0 ? Promise.reject(new Error('connection refused')) : (query as (...a: unknown[]) => Promise<unknown>)(...args))
          : Reflect.get(target, name),
    });
    try {
      const limiter = new SharedFailureLimiter(LIMITS, { postgres: flaky, tableName: table }, new FailureLimiter(LIMITS, () => Date.now()));
      const first = await limiter.charge({ clientId: 'a', address: '127.0.5.3' });
      if ('limit' in first) throw new Error('refused');
      first.failed();
      const second = await limiter.charge({ clientId: 'a', address: '127.0.5.3' });
      if ('limit' in second) throw new Error('refused');
      second.failed();
      const { rows } = await pool.query(`SELECT points FROM "${table}" WHERE key = 'ecc:auth:address:127.0.5.3'`);
      // Only the second attempt reached PostgreSQL: the first was counted in memory.
      expect(rows).toEqual([{ points: 1 }]);
    } finally {
      await pool.query(`DROP TABLE IF EXISTS "${table}"`);
      await pool.end();
    }
  });
});

(pgAvailable() ? describe : describe.skip)('shared failure limits on PostgreSQL: the table', () => {
  it('loses the rows of windows that ended over an hour ago every five minutes, until the limiter is closed', async () => {
    const pool = new Pool({ connectionString: PG_URL, max: 2 });
    const table = `ecc_test_limits_${randomBytes(6).toString('hex')}`;
    try {
      const limiter = new SharedFailureLimiter(LIMITS, { postgres: pool, tableName: table }, new FailureLimiter(LIMITS, () => Date.now()));
      const charged = await limiter.charge({ clientId: 'a', address: '127.0.6.1' });
      if ('limit' in charged) throw new Error('refused');
      const rowsNow = async () => (await pool.query<{ key: string }>(`SELECT key FROM "${table}" ORDER BY key`)).rows.map((r) => r.key);
      await pool.query(`INSERT INTO "${table}" VALUES ('ecc:auth:address:old', 1, $1)`, [Date.now() - 2 * 3_600_000]);
      expect(await rowsNow()).toEqual(['ecc:auth:address:127.0.6.1', 'ecc:auth:address:old', 'ecc:auth:client:a']);
      // Each limiter's interval runs under fake timers, five minutes passing at once.
      const afterFiveMinutes = (closeFirst: boolean) => {
        jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'Date'] });
        try {
          const timed = new SharedFailureLimiter(LIMITS, { postgres: pool, tableName: table }, new FailureLimiter(LIMITS, () => Date.now()));
          if (closeFirst) timed.close();
          jest.advanceTimersByTime(5 * 60_000);
          timed.close();
        } finally {
          jest.useRealTimers();
        }
      };
      afterFiveMinutes(true);
      await new Promise((r) => setTimeout(r, 200));
      expect(await rowsNow()).toContain('ecc:auth:address:old');
      afterFiveMinutes(false);
      await eventually(async () => !(await rowsNow()).includes('ecc:auth:address:old'));
      expect(await rowsNow()).toEqual(['ecc:auth:address:127.0.6.1', 'ecc:auth:client:a']);
      limiter.close();
    } finally {
      await pool.query(`DROP TABLE IF EXISTS "${table}"`);
      await pool.end();
    }
  });
});

describe('limiterStore backends', () => {
  const memory = new FailureLimiter(LIMITS, () => 0);
  it('takes exactly one of redis and postgres, and a table name that is a plain identifier', () => {
    const fakeRedis = { multi() {}, defineCommand() {} };
    const fakePool = { query() {}, connect() {} };
    expect(() => new SharedFailureLimiter(LIMITS, {}, memory)).toThrow(new TypeError('limiterStore needs exactly one of redis and postgres'));
    expect(() => new SharedFailureLimiter(LIMITS, { redis: fakeRedis, postgres: fakePool }, memory)).toThrow(
      new TypeError('limiterStore needs exactly one of redis and postgres'),
    );
    expect(() => new SharedFailureLimiter(LIMITS, { postgres: fakePool, tableName: 'limits"; DROP TABLE clients; --' }, memory)).toThrow(
      /^limiterStore\.tableName must be a plain lower-case identifier/,
    );
  });
});
