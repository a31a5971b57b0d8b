// Failure limits shared by every instance through Redis or PostgreSQL (rate-limiter-flexible's RateLimiterRedis / RateLimiterPostgres), failing open to this instance's in-memory limiter when the backend cannot answer.
import { RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, type RateLimiterStoreAbstract } from 'rate-limiter-flexible';
import { FailureLimiter, type AuthAttempt, type Charge, type FailureLimits, type Refusal } from './failure-limits';

/**
 * A Redis client rate-limiter-flexible can drive: an ioredis `Redis` (or `Cluster`) instance. It is
 * the caller's: this library never opens, configures or closes it.
 */
export type SharedLimitsRedis = object;

/**
 * A PostgreSQL pool rate-limiter-flexible can drive: a node-postgres `Pool`. It is the caller's: this
 * library never opens, configures or closes it.
 */
export type SharedLimitsPostgres = object;

/** Where the failure counters live when several instances must share them: exactly one of `redis` and `postgres`. */
export interface SharedLimitsBackend {
  /** The ioredis client to count in. */
  redis?: SharedLimitsRedis | undefined;
  /** The node-postgres pool to count in, in table {@link tableName} (created when missing). */
  postgres?: SharedLimitsPostgres | undefined;
  /** The PostgreSQL table of the counters (default `ecc_auth_limits`): a plain identifier. */
  tableName?: string | undefined;
  /** Prefix of every key written (default `ecc:auth`); give each deployment sharing a Redis or a table its own. */
  keyPrefix?: string;
  /** Milliseconds one counting step may take before the instance counts in memory instead (default 250). */
  timeoutMs?: number;
}

/** How long the number of back-offs of a client id is remembered (as the in-memory limiter does). */
const BACKOFF_MEMORY_SECONDS = 3600;
const DEFAULT_TIMEOUT_MS = 250;
const DEFAULT_TABLE = 'ecc_auth_limits';
/** How often the PostgreSQL table loses the rows whose window ended over an hour ago. */
const CLEANUP_INTERVAL_MS = 5 * 60_000;
/** What `tableName` may be: an unquoted PostgreSQL identifier, since it is written into the SQL. */
const TABLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The counters' table. UNLOGGED: counters only live for their window, so they need neither the WAL
 * nor a standby's copy (a crash empties the table, as a Redis restart would); it is written on every
 * first contact and failure. The columns are the ones RateLimiterPostgres reads and writes.
 */
const createTable = (table: string) =>
  `CREATE UNLOGGED TABLE IF NOT EXISTS "${table}" (key varchar(255) PRIMARY KEY, points integer NOT NULL DEFAULT 0, expire bigint)`;

/** Same as `pg`'s `Pool.query`, the one method of the pool this file calls itself. */
interface Queryable {
  query(text: string): Promise<unknown>;
}

/** One counter of the backend: `points` per `duration` seconds, keys under `keyPrefix`. */
function sharedCounter(backend: SharedLimitsBackend, keyPrefix: string, points: number, duration: number): RateLimiterStoreAbstract {
  if (backend.redis !== undefined) {
    // rejectIfRedisNotReady: a disconnected client fails at once instead of queueing the command until it reconnects.
    return new RateLimiterRedis({ storeClient: backend.redis, rejectIfRedisNotReady: true, keyPrefix, points, duration });
  }
  // The table is created by SharedFailureLimiter (tableCreated), which retries after a failure;
  // rate-limiter-flexible's own creation would give up for good, or crash the process without a
  // callback. Expired rows are deleted by SharedFailureLimiter too: the library's own timer per
  // counter would outlive the instance.
  return new RateLimiterPostgres({
    storeClient: backend.postgres,
    storeType: 'pool',
    tableName: backend.tableName ?? DEFAULT_TABLE,
    tableCreated: true,
    clearExpiredByTimeout: false,
    keyPrefix,
    points,
    duration,
  });
}

/** Thrown when a backend step took longer than the backend's `timeoutMs`. */
class SlowBackend extends Error {}

/**
 * The failure limits of {@link FailureLimiter} (per address; per client id with a doubling back-off;
 * charged before the comparison, given back on success), counted in Redis or PostgreSQL so that a
 * flood spread over every instance counts once.
 * - Redis: each counter is a rate-limiter-flexible `RateLimiterRedis`, one atomic Lua `INCRBY` +
 *   `PEXPIRE` per step, keys expiring with their window (Redis holds only live windows), windows on
 *   Redis's clock.
 * - PostgreSQL: each counter is a `RateLimiterPostgres`, one atomic `INSERT … ON CONFLICT DO UPDATE …
 *   RETURNING` per step on a row per key in one UNLOGGED table; windows on each instance's own clock
 *   (`Date.now()`, so keep the instances' clocks in step, as NTP does), rows expired for an hour deleted
 *   every five minutes.
 * Neither reads the instance's `clock` option.
 *
 * When the backend cannot answer (not connected, an error, or slower than `timeoutMs`), the attempt is
 * counted by this instance's own in-memory {@link FailureLimiter} instead — fail open to a local
 * limit, never a 500 and never an unlimited endpoint. This is rate-limiter-flexible's
 * `insuranceLimiter` idea, with our bounded, clock-driven limiter as the insurance rather than
 * `RateLimiterMemory` (whose keys are unbounded). While the backend is away each instance limits
 * alone, so a guesser spread over N instances gets up to N times the limit; `onUnavailable` is told
 * once per outage.
 *
 * Trusted (client, address) pairs — exempt from the per-client back-off — stay per instance: a pair is
 * trusted where it authenticated, which only holders of the secret can bring about.
 */
export class SharedFailureLimiter {
  private readonly byAddress: RateLimiterStoreAbstract | undefined;
  private readonly byClient: RateLimiterStoreAbstract | undefined;
  private readonly backoffs: RateLimiterStoreAbstract;
  private readonly timeoutMs: number;
  private unavailable = false;
  /** PostgreSQL: the counters' table, created on first use (again after a failure); undefined for Redis. */
  private readonly ensureTable: (() => Promise<void>) | undefined;
  /** PostgreSQL: deletes the rows of ended windows every few minutes; stopped by {@link close}. */
  private cleanup: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: FailureLimits,
    backend: SharedLimitsBackend,
    /** Counts attempts while the backend cannot, and keeps the trusted pairs. */
    readonly insurance: FailureLimiter,
    private readonly onUnavailable: (err: unknown) => void = () => {},
  ) {
    if ((backend.redis === undefined) === (backend.postgres === undefined)) {
      throw new TypeError('limiterStore needs exactly one of redis and postgres');
    }
    const table = backend.tableName ?? DEFAULT_TABLE;
    if (!TABLE_NAME.test(table)) throw new TypeError(`limiterStore.tableName must be a plain lower-case identifier, not ${JSON.stringify(table)}`);
    const prefix = backend.keyPrefix ?? 'ecc:auth';
    this.timeoutMs = backend.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (limits.addressFailureLimit > 0) {
      this.byAddress = sharedCounter(backend, `${prefix}:address`, limits.addressFailureLimit, limits.addressFailureWindow);
    }
    if (limits.clientFailureLimit > 0) {
      this.byClient = sharedCounter(backend, `${prefix}:client`, limits.clientFailureLimit, limits.clientFailureWindow);
    }
    this.backoffs = sharedCounter(backend, `${prefix}:backoff`, 1_000_000, BACKOFF_MEMORY_SECONDS);
    if (backend.postgres !== undefined) {
      const pool = backend.postgres as Queryable;
      let created: Promise<void> | undefined;
      // One statement per interval, a few rows per failed key: the table holds only the last hour's windows.
      this.cleanup = setInterval(() => {
        pool.query(`DELETE FROM "${table}" WHERE expire < ${Date.now() - 3_600_000}`).catch(() => {});
      }, CLEANUP_INTERVAL_MS);
      this.cleanup.unref();
      this.ensureTable = () => {
        created ??= pool.query(createTable(table)).then(
          () => undefined,
          (err: unknown) => {
            // Two instances creating the table at once: one of them loses the race on the type's name.
            if ((err as { code?: string }).code === '23505') return;
            created = undefined;
            throw err;
          },
        );
        return created;
      };
    }
  }

  /**
   * Checks the attempt against the shared counters and charges it in the same atomic step (one
   * `INCRBY` per counter: concurrent attempts on any instance cannot all pass a limit). Resolves the
   * refusal, or the charge to settle once the outcome is known.
   */
  async charge(attempt: AuthAttempt): Promise<Refusal | Charge> {
    try {
      const result = await this.withinTimeout(this.chargeShared(attempt));
      this.unavailable = false;
      return result;
    } catch (err: unknown) {
      if (!this.unavailable) {
        this.unavailable = true;
        this.onUnavailable(err);
      }
      return this.insurance.charge(attempt);
    }
  }

  /** Stops the PostgreSQL table's cleanup (the pool is the caller's to end). */
  close(): void {
    clearInterval(this.cleanup);
    this.cleanup = undefined;
  }

  /** Whether this address authenticated as this client recently, on this instance. */
  isTrusted(attempt: AuthAttempt): boolean {
    return this.insurance.isTrusted(attempt);
  }

  /** Records a success: the pair becomes trusted on this instance. */
  success(attempt: AuthAttempt): void {
    this.insurance.success(attempt);
  }

  private async chargeShared(attempt: AuthAttempt): Promise<Refusal | Charge> {
    await this.ensureTable?.();
    const { address, clientId } = attempt;
    const taken: [RateLimiterStoreAbstract, string][] = [];
    const giveBack = () => {
      for (const [limiter, key] of taken) limiter.reward(key).catch(() => {});
    };
    if (this.byAddress && address !== undefined) {
      const refused = await consume(this.byAddress, address);
      if (typeof refused === 'number') return { limit: 'address', retryAfterSeconds: seconds(refused) };
      taken.push([this.byAddress, address]);
    }
    let atLimit = false;
    if (this.byClient && clientId !== undefined) {
      if (this.isTrusted(attempt)) {
        // Counted, never refused: the pair is exempt from the per-client back-off.
        await this.byClient.penalty(clientId);
      } else {
        let refused: number | RateLimiterRes;
        try {
          refused = await consume(this.byClient, clientId);
        } catch (err: unknown) {
          giveBack();
          throw err;
        }
        if (typeof refused === 'number') {
          giveBack();
          return { limit: 'client', retryAfterSeconds: seconds(refused) };
        }
        atLimit = refused.consumedPoints >= this.limits.clientFailureLimit;
      }
      taken.push([this.byClient, clientId]);
    }
    let settled = false;
    return {
      failed: () => {
        if (settled) return;
        settled = true;
        // The attempt that used up the id's window failed: the id backs off 1 s, 2 s, 4 s, ... (capped).
        if (atLimit && clientId !== undefined) this.backOff(clientId).catch(() => {});
      },
      refund: () => {
        if (settled) return;
        settled = true;
        giveBack();
      },
    };
  }

  private async backOff(clientId: string): Promise<void> {
    const round = (await this.backoffs.penalty(clientId)).consumedPoints;
    const backoffSeconds = Math.min(this.limits.clientMaxBackoff, 2 ** Math.min(round - 1, 30));
    // block() replaces the count: once the back-off ends, the id starts a fresh window.
    await this.byClient?.block(clientId, backoffSeconds);
  }

  private withinTimeout<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SlowBackend(`the shared failure limits took over ${this.timeoutMs} ms`)), this.timeoutMs);
      timer.unref();
    });
    return Promise.race([work, late]).finally(() => clearTimeout(timer));
  }
}

/**
 * Takes one point from `key`: resolves the counter's state when it had one left, or the milliseconds
 * until it may try again when it had none. Rejects with the backend's error when it failed.
 */
async function consume(limiter: RateLimiterStoreAbstract, key: string): Promise<RateLimiterRes | number> {
  try {
    return await limiter.consume(key);
  } catch (err: unknown) {
    if (err instanceof RateLimiterRes) return err.msBeforeNext;
    throw err;
  }
}

/** Whole seconds to tell a refused caller (Retry-After), at least 1. */
function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
