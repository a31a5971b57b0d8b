// Failure limits shared through Redis (lib/core/client-auth/shared-failure-limits.ts): counted once across instances, failing open to the in-memory limiter (issue 12). Needs OAUTH_TEST_REDIS_URL.
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { FailureLimiter, type FailureLimits } from '../../../lib/core/client-auth/failure-limits';
import { SharedFailureLimiter } from '../../../lib/core/client-auth/shared-failure-limits';
import { dropKeys, readyRedis, REDIS_URL } from '../../redis-helpers';

const url = REDIS_URL;
const describeRedis = url ? describe : describe.skip;

const LIMITS: FailureLimits = {
  addressFailureLimit: 3,
  addressFailureWindow: 600,
  clientFailureLimit: 2,
  clientFailureWindow: 60,
  clientMaxBackoff: 60,
};

describeRedis('shared failure limits (Redis)', () => {
  let redis: Redis;
  let prefix: string;
  const instance = (limits = LIMITS) =>
    new SharedFailureLimiter(limits, { redis, keyPrefix: prefix }, new FailureLimiter(limits, () => Date.now()));

  beforeAll(async () => {
    // Until the client is ready the limiter counts in memory (rejectIfRedisNotReady): wait for it.
    redis = await readyRedis(url as string);
  });
  beforeEach(() => {
    prefix = `ecc-test:${randomBytes(6).toString('hex')}`;
  });
  afterEach(async () => dropKeys(redis, prefix));
  afterAll(async () => {
    await redis.quit();
  });

  it('counts an address failure on one instance against the other (issue 12: one flood, counted once)', async () => {
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

  it('gives a successful attempt its charge back, on every instance', async () => {
    const a = instance();
    const b = instance();
    for (let i = 0; i < LIMITS.addressFailureLimit + 2; i++) {
      const charged = await (i % 2 ? b : a).charge({ clientId: 'good', address: '127.0.0.9' });
      if ('limit' in charged) throw new Error('a refunded attempt was counted');
      charged.refund();
    }
    // refund() gives the point back without waiting; it lands on the same connection, after the charge.
    const key = `${prefix}:address:127.0.0.9`;
    for (let i = 0; i < 50 && (await redis.get(key)) !== '0'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await redis.get(key)).toBe('0');
  });

  it('backs a client id off once its failures from anywhere reach the limit, on every instance', async () => {
    const a = instance();
    const b = instance();
    for (let i = 0; i < LIMITS.clientFailureLimit; i++) {
      const charged = await a.charge({ clientId: 'victim', address: `127.0.1.${i}` });
      if ('limit' in charged) throw new Error('refused too early');
      charged.failed();
    }
    // failed() starts the back-off without waiting; let the block land in Redis.
    // The first back-off is 1 s: the key's TTL drops from the 60 s window to at most 1000 ms.
    for (let i = 0; i < 50 && (await redis.pttl(`${prefix}:client:victim`)) > 1000; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const refused = await b.charge({ clientId: 'victim', address: '127.0.2.1' });
    expect(refused).toEqual({ limit: 'client', retryAfterSeconds: 1 });
  });

  it('exempts a pair that authenticated on this instance from the client back-off, and still counts it', async () => {
    const a = instance();
    a.success({ clientId: 'victim', address: '127.0.3.1' });
    for (let i = 0; i < LIMITS.clientFailureLimit + 1; i++) {
      const charged = await a.charge({ clientId: 'victim', address: `127.0.4.${i}` });
      if ('limit' in charged) break;
      charged.failed();
    }
    expect('limit' in (await a.charge({ clientId: 'victim', address: '127.0.3.1' }))).toBe(false);
    expect(Number(await redis.get(`${prefix}:client:victim`))).toBeGreaterThan(LIMITS.clientFailureLimit);
  });
});

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
    for (let i = 0; i < LIMITS.addressFailureLimit; i++) {
      const charged = await limiter.charge({ clientId: `guess-${i}`, address: '127.0.5.1' });
      if ('limit' in charged) throw new Error('refused too early');
      charged.failed();
    }
    expect(await limiter.charge({ clientId: 'guess-x', address: '127.0.5.1' })).toEqual({ limit: 'address', retryAfterSeconds: 600 });
    expect(outages).toHaveLength(1);
    down.disconnect();
  });
});
