// Failed client authentication limits: per address, then per client_id with a doubling back-off, charged before the secret is compared; bounded in time and in memory.
import type { LRUCache } from 'lru-cache';
import { boundedLru } from '../model/bounded-lru';

/** Who is trying to authenticate: the client id it claims (if any) and the address it came from. */
export interface AuthAttempt {
  clientId: string | undefined;
  address: string | undefined;
}

/** Limits of {@link FailureLimiter}; a limit of 0 turns that counter off. Durations in seconds. */
export interface FailureLimits {
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

/**
 * One attempt charged against the counters before its secret is compared. Exactly one of its
 * methods is called once the outcome is known (later calls do nothing).
 */
export interface Charge {
  /** The secret was wrong: the charge stays (and may start the client id's back-off). */
  failed(): void;
  /** The client authenticated, or nothing was evaluated (busy gate, store error): the charge is given back. */
  refund(): void;
}

/** How long a (client, address) pair that authenticated stays exempt from the per-client back-off. */
const TRUST_TTL_MS = 24 * 3600 * 1000;
/** Most (client, address) pairs remembered; only successful authentications add one, so an attacker cannot fill it. */
const MAX_TRUSTED_PAIRS = 10_000;
/** How long the number of back-offs of a client id is remembered (the doubling restarts after it). */
const BACKOFF_MEMORY_MS = 3600 * 1000;
/**
 * Most keys each counter holds (addresses, client ids, back-off rounds). Past it the least recently
 * charged key is forgotten: memory stays bounded (about 200 bytes a key, so some 10 MB per counter at
 * worst) even when an attacker with very many addresses (IPv6) outruns the windows.
 */
export const MAX_COUNTED_KEYS = 50_000;

/**
 * A fixed window of one key: `count` attempts charged since `resetAt - duration`, `pending` of them
 * still being compared; `blockedUntil` while backing off.
 */
interface Window {
  count: number;
  pending: number;
  resetAt: number;
  blockedUntil?: number;
}

/** Fixed-window counters per key, on the injected clock, least recently used keys dropped past `maxKeys`. */
class Counter {
  private readonly windows: LRUCache<string, Window>;

  constructor(
    readonly limit: number,
    private readonly durationMs: number,
    private readonly now: () => number,
    maxKeys: number,
  ) {
    this.windows = boundedLru<string, Window>(maxKeys);
  }

  /** The key's live window, or undefined when it has none (never charged, or its window has passed). */
  current(key: string): Window | undefined {
    const window = this.windows.get(key);
    if (window && this.now() < window.resetAt) return window;
    return undefined;
  }

  /** Milliseconds until `key` may try again when it is blocked or used up; undefined while it has room. */
  refusedFor(key: string): number | undefined {
    const window = this.current(key);
    if (!window) return undefined;
    const now = this.now();
    if (window.blockedUntil !== undefined && now < window.blockedUntil) return window.blockedUntil - now;
    if (window.count - window.pending >= this.limit) return window.resetAt - now;
    // Used up only by attempts still being compared: they settle within about one comparison, so ask
    // for a second, not for the rest of the window.
    if (window.count >= this.limit) return 1000;
    return undefined;
  }

  /** Adds one to `key`'s window (opening one when none is live); returns that window. */
  charge(key: string): Window {
    let window = this.current(key);
    if (!window) {
      window = { count: 0, pending: 0, resetAt: this.now() + this.durationMs };
      this.windows.set(key, window);
    }
    window.count++;
    window.pending++;
    return window;
  }

  /** Settles a charge: kept as a failure, or given back (either only while its window is still the key's). */
  settle(key: string, window: Window, keep: boolean): void {
    if (this.windows.peek(key) !== window) return;
    window.pending = Math.max(0, window.pending - 1);
    if (!keep) window.count = Math.max(0, window.count - 1);
  }

  get size(): number {
    return this.windows.size;
  }
}

/**
 * Counts failed client authentications and refuses further attempts before they cost a bcrypt
 * comparison.
 *
 * - Per address first: after `addressFailureLimit` failures in `addressFailureWindow`, the address is
 *   refused until the window passes. This is what stops one guesser.
 * - Per client id: after `clientFailureLimit` failures (from anywhere) in `clientFailureWindow`, the id
 *   backs off for 1 s, then 2 s, 4 s, ... up to `clientMaxBackoff` while the failures go on. It never
 *   locks the id for long, and an address that authenticated as that client before is exempt, so an
 *   attacker hammering a real id from elsewhere does not lock the real client out.
 *
 * An attempt is charged when it is let through, before its secret is compared, and the charge is
 * given back when it succeeds: concurrent guesses cannot overshoot a limit while their comparisons
 * are in flight (a key used up only by attempts in flight is told to retry after 1 s). Windows run on the injected clock (the instance's `clock` option). Counters keep at
 * most {@link MAX_COUNTED_KEYS} keys each.
 */
export class FailureLimiter {
  private readonly byAddress: Counter | undefined;
  private readonly byClient: Counter | undefined;
  private readonly backoffs: Counter;
  private readonly trusted = boundedLru<string, number>(MAX_TRUSTED_PAIRS);
  /** Addresses the shared (Redis) limits refused, with when the refusal ends (epoch ms): see {@link mirrorRefusal}. */
  private readonly mirrored: LRUCache<string, number>;

  constructor(
    private readonly limits: FailureLimits,
    private readonly now: () => number = () => Date.now(),
    maxKeys = MAX_COUNTED_KEYS,
  ) {
    if (limits.addressFailureLimit > 0) {
      this.byAddress = new Counter(limits.addressFailureLimit, limits.addressFailureWindow * 1000, now, maxKeys);
    }
    if (limits.clientFailureLimit > 0) {
      this.byClient = new Counter(limits.clientFailureLimit, limits.clientFailureWindow * 1000, now, maxKeys);
    }
    this.backoffs = new Counter(Number.MAX_SAFE_INTEGER, BACKOFF_MEMORY_MS, now, maxKeys);
    this.mirrored = boundedLru<string, number>(maxKeys);
  }

  /**
   * Whether the address alone is refused now (issue 16.4): the per-address counter of this memory, or a
   * refusal of the shared limits mirrored here. Synchronous and charges nothing, so the adapter can ask
   * it before it reads the body; the per-client limit is not consulted (it needs the credential).
   */
  refusesAddress(address: string): Refusal | undefined {
    if (!this.byAddress) return undefined;
    const ms = this.byAddress.refusedFor(address);
    if (ms !== undefined) return { limit: 'address', retryAfterSeconds: seconds(ms) };
    const until = this.mirrored.get(address);
    if (until === undefined) return undefined;
    const left = until - this.now();
    if (left > 0) return { limit: 'address', retryAfterSeconds: seconds(left) };
    this.mirrored.delete(address);
    return undefined;
  }

  /**
   * Remembers a per-address refusal the shared limits gave, for its Retry-After, so the address's next
   * requests are refused by {@link refusesAddress} without a Redis round trip. It only ever refuses for
   * as long as Redis said (rounded up to a second, on this instance's clock), never counts anything,
   * and holds at most {@link MAX_COUNTED_KEYS} addresses.
   */
  mirrorRefusal(address: string, refusal: Refusal): void {
    if (!this.byAddress || refusal.limit !== 'address') return;
    this.mirrored.set(address, this.now() + refusal.retryAfterSeconds * 1000);
  }

  /** Whether the attempt must be refused now, before its secret is compared; undefined when it may go on. */
  check(attempt: AuthAttempt): Refusal | undefined {
    if (this.byAddress && attempt.address !== undefined) {
      const ms = this.byAddress.refusedFor(attempt.address);
      if (ms !== undefined) return { limit: 'address', retryAfterSeconds: seconds(ms) };
    }
    if (this.byClient && attempt.clientId !== undefined && !this.isTrusted(attempt)) {
      const ms = this.byClient.refusedFor(attempt.clientId);
      if (ms !== undefined) return { limit: 'client', retryAfterSeconds: seconds(ms) };
    }
    return undefined;
  }

  /**
   * Checks the attempt and, when it may go on, charges it at once (synchronously, so no other attempt
   * can slip in between): the caller reports the outcome on the returned {@link Charge}.
   */
  charge(attempt: AuthAttempt): Refusal | Charge {
    const refusal = this.check(attempt);
    if (refusal) return refusal;
    return this.chargeUnchecked(attempt);
  }

  /**
   * Charges an attempt that goes on whatever the limits say (a caller who proved the secret without
   * bcrypt), so its outcome is still counted.
   */
  chargeUnchecked(attempt: AuthAttempt): Charge {
    const { address, clientId } = attempt;
    const addressWindow = this.byAddress && address !== undefined ? this.byAddress.charge(address) : undefined;
    const clientWindow = this.byClient && clientId !== undefined ? this.byClient.charge(clientId) : undefined;
    let settled = false;
    return {
      failed: () => {
        if (settled) return;
        settled = true;
        if (addressWindow && address !== undefined) this.byAddress?.settle(address, addressWindow, true);
        if (clientWindow && clientId !== undefined) {
          this.byClient?.settle(clientId, clientWindow, true);
          this.backOffIfSpent(clientId, clientWindow);
        }
      },
      refund: () => {
        if (settled) return;
        settled = true;
        if (addressWindow && address !== undefined) this.byAddress?.settle(address, addressWindow, false);
        if (clientWindow && clientId !== undefined) this.byClient?.settle(clientId, clientWindow, false);
      },
    };
  }

  /** Records a failed authentication against the address and the claimed client id (a charge that failed). */
  failure(attempt: AuthAttempt): void {
    this.chargeUnchecked(attempt).failed();
  }

  /** Whether this address authenticated as this client recently (such attempts also go first in the queue). */
  isTrusted(attempt: AuthAttempt): boolean {
    if (attempt.clientId === undefined || attempt.address === undefined) return false;
    const key = pairKey(attempt);
    // peek: a pair's place is set by its last success, not by lookups (least recently confirmed go first).
    const until = this.trusted.peek(key);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.trusted.delete(key);
    return false;
  }

  /** Records a success: the pair becomes trusted (exempt from the per-client back-off). */
  success(attempt: AuthAttempt): void {
    if (attempt.clientId === undefined || attempt.address === undefined) return;
    this.trusted.set(pairKey(attempt), this.now() + TRUST_TTL_MS);
  }

  /** Keys held now by the address and client counters (for tests and metrics). */
  get keys(): { address: number; client: number } {
    return { address: this.byAddress?.size ?? 0, client: this.byClient?.size ?? 0 };
  }

  /**
   * Once a client id's failures reach the limit, it backs off for 1 s, 2 s, 4 s, ... (capped); the
   * window then ends with the back-off, so the id starts afresh after it.
   */
  private backOffIfSpent(clientId: string, window: Window): void {
    if (window.count - window.pending < this.limits.clientFailureLimit || window.blockedUntil !== undefined) return;
    const round = this.backoffs.charge(clientId).count;
    const backoffSeconds = Math.min(this.limits.clientMaxBackoff, 2 ** Math.min(round - 1, 30));
    window.blockedUntil = this.now() + backoffSeconds * 1000;
    window.resetAt = window.blockedUntil;
  }
}

function pairKey(attempt: AuthAttempt): string {
  return `${attempt.clientId}\n${attempt.address}`;
}

/** Whole seconds to tell a refused caller (Retry-After), at least 1. */
function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
