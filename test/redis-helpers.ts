// Redis fixtures for the suites that need OAUTH_TEST_REDIS_URL: a ready client, and cleanup of one test's key prefix.
import Redis from 'ioredis';

/**
 * The Redis URL of the test run, or undefined where the run's global setup (test/support/services-setup.js)
 * found OAUTH_TEST_REDIS_URL unset or unreachable: it says so once for the run, and these suites skip.
 */
export const REDIS_URL = process.env.OAUTH_TEST_REDIS_URL_SKIP ? undefined : process.env.OAUTH_TEST_REDIS_URL || undefined;

/** A client on `url`, resolved once it is ready (the shared limiter counts in memory until then). */
export async function readyRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  await new Promise((resolve) => redis.once('ready', resolve));
  return redis;
}

/** Deletes every key under `prefix` (each test has its own). */
export async function dropKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}
