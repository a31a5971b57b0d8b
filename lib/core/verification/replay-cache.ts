// One-time claims of jtis (client assertions, RFC 7523 §3; DPoP proofs, RFC 9449 §11.1): in a shared store when there is one, else a bounded in-memory cache.
import type { LRUCache } from 'lru-cache';
import { boundedLru } from '../model/bounded-lru';
import type { ReplayStore } from '../../store/types';

/** Claims an id once until it expires; resolves false for a replay. */
export interface OneTimeClaims {
  /** `expiresAt` and `now` in epoch ms. */
  claimOnce(namespace: string, id: string, expiresAt: number, now: number): Promise<boolean>;
}

/**
 * In-process claims, bounded: at most `max` live ids; when full, the oldest id goes first
 * (lru-cache's eviction), so a flood can only shorten how long the oldest ids are remembered, never
 * grow memory. Expiry is checked on the injected clock, not a timer. Each instance has its own: with
 * several instances, use {@link StoreClaims} over a shared store.
 *
 * @example
 * const claims = new MemoryClaims(100_000);
 * await claims.claimOnce('dpop', jti, Date.now() + 60_000, Date.now()); // true, then false
 */
export class MemoryClaims implements OneTimeClaims {
  private readonly cache: LRUCache<string, number>;

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new TypeError('the replay cache size must be a positive integer');
    this.cache = boundedLru<string, number>(max);
  }

  claimOnce(namespace: string, id: string, expiresAt: number, now: number): Promise<boolean> {
    const key = `${namespace}\u0000${id}`;
    const held = this.cache.get(key);
    if (held !== undefined && held > now) return Promise.resolve(false);
    this.cache.set(key, expiresAt);
    return Promise.resolve(true);
  }

  /** Ids currently remembered (for tests and metrics). */
  get size(): number {
    return this.cache.size;
  }
}

/** Claims in a {@link ReplayStore}: every instance sharing the database refuses the same replay. */
export class StoreClaims implements OneTimeClaims {
  constructor(private readonly store: ReplayStore) {}

  claimOnce(namespace: string, id: string, expiresAt: number, now: number): Promise<boolean> {
    return this.store.claimOnce(namespace, id, expiresAt, now);
  }
}
