// Failure limits shared by every instance through Redis (rate-limiter-flexible's RateLimiterRedis), failing open to this instance's in-memory limiter when Redis cannot answer.
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { FailureLimiter, type AuthAttempt, type Charge, type FailureLimits, type Refusal } from './failure-limits';

/**
 * A Redis client rate-limiter-flexible can drive: an ioredis `Redis` (or `Cluster`) instance. It is
 * the caller's: this library never opens, configures or closes it.
 */
export type SharedLimitsRedis = object;

/** Where the failure counters live when several instances must share them. */
export interface SharedLimitsBackend {
  /** The ioredis client to count in. */
  redis: SharedLimitsRedis;
  /** Prefix of every key written (default `ecc:auth`); give each deployment sharing a Redis its own. */
  keyPrefix?: string;
  /** Milliseconds one counting step may take before the instance counts in memory instead (default 250). */
  timeoutMs?: number;
}

/** How long the number of back-offs of a client id is remembered (as the in-memory limiter does). */
const BACKOFF_MEMORY_SECONDS = 3600;
const DEFAULT_TIMEOUT_MS = 250;

/** Thrown when a Redis step took longer than the backend's `timeoutMs`. */
class SlowBackend extends Error {}

/**
 * The failure limits of {@link FailureLimiter} (per address; per client id with a doubling back-off;
 * charged before the comparison, given back on success), counted in Redis so that a flood spread over
 * every instance counts once. Each counter is a rate-limiter-flexible `RateLimiterRedis`: one atomic
 * Lua `INCRBY` + `PEXPIRE` per step, keys expiring with their window, so Redis holds only live windows.
 * Windows run on Redis's clock, not the instance's `clock` option.
 *
 * When Redis cannot answer (not connected, an error, or slower than `timeoutMs`), the attempt is
 * counted by this instance's own in-memory {@link FailureLimiter} instead — fail open to a local
 * limit, never a 500 and never an unlimited endpoint. This is rate-limiter-flexible's
 * `insuranceLimiter` idea, with our bounded, clock-driven limiter as the insurance rather than
 * `RateLimiterMemory` (whose keys are unbounded). While Redis is away each instance limits alone, so a
 * guesser spread over N instances gets up to N times the limit; `onUnavailable` is told once per outage.
 *
 * Trusted (client, address) pairs — exempt from the per-client back-off — stay per instance: a pair is
 * trusted where it authenticated, which only holders of the secret can bring about.
 */
export class SharedFailureLimiter {
  private readonly byAddress: RateLimiterRedis | undefined;
  private readonly byClient: RateLimiterRedis | undefined;
  private readonly backoffs: RateLimiterRedis;
  private readonly timeoutMs: number;
  private unavailable = false;

  constructor(
    private readonly limits: FailureLimits,
    backend: SharedLimitsBackend,
    /** Counts attempts while Redis cannot, and keeps the trusted pairs. */
    readonly insurance: FailureLimiter,
    private readonly onUnavailable: (err: unknown) => void = () => {},
  ) {
    const prefix = backend.keyPrefix ?? 'ecc:auth';
    this.timeoutMs = backend.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // rejectIfRedisNotReady: a disconnected client fails at once instead of queueing the command until it reconnects.
    const common = { storeClient: backend.redis, rejectIfRedisNotReady: true };
    if (limits.addressFailureLimit > 0) {
      this.byAddress = new RateLimiterRedis({
        ...common,
        keyPrefix: `${prefix}:address`,
        points: limits.addressFailureLimit,
        duration: limits.addressFailureWindow,
      });
    }
    if (limits.clientFailureLimit > 0) {
      this.byClient = new RateLimiterRedis({
        ...common,
        keyPrefix: `${prefix}:client`,
        points: limits.clientFailureLimit,
        duration: limits.clientFailureWindow,
      });
    }
    this.backoffs = new RateLimiterRedis({ ...common, keyPrefix: `${prefix}:backoff`, points: 1_000_000, duration: BACKOFF_MEMORY_SECONDS });
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

  /** Whether this address authenticated as this client recently, on this instance. */
  isTrusted(attempt: AuthAttempt): boolean {
    return this.insurance.isTrusted(attempt);
  }

  /** Records a success: the pair becomes trusted on this instance. */
  success(attempt: AuthAttempt): void {
    this.insurance.success(attempt);
  }

  private async chargeShared(attempt: AuthAttempt): Promise<Refusal | Charge> {
    const { address, clientId } = attempt;
    const taken: [RateLimiterRedis, string][] = [];
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
 * until it may try again when it had none. Rejects with the backend's error when Redis failed.
 */
async function consume(limiter: RateLimiterRedis, key: string): Promise<RateLimiterRes | number> {
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
