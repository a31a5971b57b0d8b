// Failed client authentication limits: per address, then per client_id with a doubling back-off, on rate-limiter-flexible counters.
import { RateLimiterMemory, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** Who is trying to authenticate: the client id it claims (if any) and the address it came from. */
export interface AuthAttempt {
  clientId: string | undefined;
  address: string | undefined;
}

/** Limits of {@link AuthLimiter}; a limit of 0 turns that counter off. Durations in seconds. */
export interface AuthLimits {
  addressFailureLimit: number;
  addressFailureWindow: number;
  clientFailureLimit: number;
  clientFailureWindow: number;
  clientMaxBackoff: number;
}

/** An attempt refused before any secret was compared: which counter refused it and for how long. */
export interface Refusal {
  limit: 'address' | 'client';
  retryAfterSeconds: number;
}

/** How long a (client, address) pair that authenticated stays exempt from the per-client back-off. */
const TRUST_TTL_MS = 24 * 3600 * 1000;
/** Most (client, address) pairs remembered; only successful authentications add one, so an attacker cannot fill it. */
const MAX_TRUSTED_PAIRS = 10_000;
/** How long the number of back-offs of a client id is remembered (the doubling restarts after it). */
const BACKOFF_MEMORY_SECONDS = 3600;

/**
 * Counts failed client authentications and refuses further attempts before they cost a bcrypt
 * comparison. The counters are rate-limiter-flexible limiters: in memory today, and the same API
 * over Redis, PostgreSQL or others when several instances must share them.
 *
 * - Per address first: after `addressFailureLimit` failures in `addressFailureWindow`, the address is
 *   refused until the window passes. This is what stops one guesser.
 * - Per client id: after `clientFailureLimit` failures (from anywhere) in `clientFailureWindow`, the id
 *   backs off for 1 s, then 2 s, 4 s, ... up to `clientMaxBackoff` while the failures go on. It never
 *   locks the id for long, and an address that authenticated as that client before is exempt, so an
 *   attacker hammering a real id from elsewhere does not lock the real client out.
 */
export class AuthLimiter {
  private readonly byAddress: RateLimiterAbstract | undefined;
  private readonly byClient: RateLimiterAbstract | undefined;
  private readonly backoffs: RateLimiterAbstract;
  private readonly trusted = new Map<string, number>();

  constructor(
    private readonly limits: AuthLimits,
    private readonly now: () => number = Date.now,
  ) {
    if (limits.addressFailureLimit > 0) {
      this.byAddress = new RateLimiterMemory({
        keyPrefix: 'address',
        points: limits.addressFailureLimit,
        duration: limits.addressFailureWindow,
      });
    }
    if (limits.clientFailureLimit > 0) {
      this.byClient = new RateLimiterMemory({
        keyPrefix: 'client',
        points: limits.clientFailureLimit,
        duration: limits.clientFailureWindow,
      });
    }
    this.backoffs = new RateLimiterMemory({ keyPrefix: 'backoff', points: 1_000_000, duration: BACKOFF_MEMORY_SECONDS });
  }

  /** Whether the attempt must be refused now, before its secret is compared; undefined when it may go on. */
  async check(attempt: AuthAttempt): Promise<Refusal | undefined> {
    if (this.byAddress && attempt.address !== undefined) {
      const retry = await exhausted(this.byAddress, attempt.address);
      if (retry !== undefined) return { limit: 'address', retryAfterSeconds: retry };
    }
    if (this.byClient && attempt.clientId !== undefined && !this.isTrusted(attempt)) {
      const retry = await exhausted(this.byClient, attempt.clientId);
      if (retry !== undefined) return { limit: 'client', retryAfterSeconds: retry };
    }
    return undefined;
  }

  /** Whether this address authenticated as this client recently (such attempts also go first in the queue). */
  isTrusted(attempt: AuthAttempt): boolean {
    if (attempt.clientId === undefined || attempt.address === undefined) return false;
    const key = pairKey(attempt);
    const until = this.trusted.get(key);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.trusted.delete(key);
    return false;
  }

  /** Records a failed authentication against the address and the claimed client id. */
  async failure(attempt: AuthAttempt): Promise<void> {
    if (this.byAddress && attempt.address !== undefined) await this.byAddress.penalty(attempt.address);
    if (this.byClient && attempt.clientId !== undefined) {
      const res = await this.byClient.penalty(attempt.clientId);
      if (res.consumedPoints === this.limits.clientFailureLimit) {
        const round = (await this.backoffs.penalty(attempt.clientId)).consumedPoints;
        const seconds = Math.min(this.limits.clientMaxBackoff, 2 ** Math.min(round - 1, 30));
        // block() replaces the count: once the back-off ends, the id starts a fresh window.
        await this.byClient.block(attempt.clientId, seconds);
      }
    }
  }

  /** Records a success: the pair becomes trusted (exempt from the per-client back-off). */
  success(attempt: AuthAttempt): void {
    if (attempt.clientId === undefined || attempt.address === undefined) return;
    const key = pairKey(attempt);
    this.trusted.delete(key);
    if (this.trusted.size >= MAX_TRUSTED_PAIRS) {
      const oldest = this.trusted.keys().next();
      if (!oldest.done) this.trusted.delete(oldest.value);
    }
    this.trusted.set(key, this.now() + TRUST_TTL_MS);
  }
}

function pairKey(attempt: AuthAttempt): string {
  return `${attempt.clientId}\n${attempt.address}`;
}

/** Seconds until `key` may try again when its counter is used up; undefined while it has points left. */
async function exhausted(limiter: RateLimiterAbstract, key: string): Promise<number | undefined> {
  const res = await limiter.get(key);
  if (!res || res.consumedPoints < limiter.points) return undefined;
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}
