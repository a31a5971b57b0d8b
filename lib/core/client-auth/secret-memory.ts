// Remembered secret verifications: a keyed hash of a secret bcrypt already accepted, tied to the stored hash and client version it matched.
import { hash, randomBytes } from 'node:crypto';
import type { LRUCache } from 'lru-cache';
import { boundedLru } from '../model/bounded-lru';

/** What one remembered verification is bound to: it counts only while the client row still says the same. */
interface Remembered {
  clientId: string;
  /** The bcrypt hash the secret matched; it must still be one the client accepts. */
  hash: string;
  /** The client's version at that time; any change to the client (rotate, disable, scopes) bumps it. */
  version: number;
  /** When bcrypt accepted it (epoch ms). */
  at: number;
}

/**
 * A secret presented for a client id. `digest` keeps its keyed hash once the memory computed it, so
 * the pre-check and the check of one request hash the secret once.
 */
export interface PresentedSecret {
  clientId: string;
  secret: string;
  digest?: string;
}

/** The stored state a remembered verification is checked against on every request. */
export interface ClientState {
  version: number;
  enabled: boolean;
  acceptedHashes: readonly string[];
}

/**
 * Remembers that bcrypt accepted a client's secret, so a returning client costs one keyed hash instead
 * of a bcrypt comparison. Only `SHA-256(processKey NUL id NUL secret)` is kept, under a 256-bit key
 * drawn at construction and never stored, so the memory is worthless outside this process and never
 * holds the secret. A keyed prefix rather than HMAC: a digest is only ever a key of this in-memory
 * map and never leaves the process, so the length extension HMAC's construction prevents gives an
 * attacker nothing (they would need a digest to extend, and a secret to present, not a digest);
 * node:crypto's one-shot `hash()` costs a third of `createHmac()` on every token request and every
 * early refusal. An entry counts only while the caller's freshly read client row is enabled, has the same
 * version, and still accepts the bcrypt hash that matched: a rotation, a disabling or a deletion by
 * any process ends it on the next request that reads the row, with no timer trusted alone.
 * Bounded in count (least recently used go first) and in age.
 */
export class SecretMemory {
  /** 256 random bits, the prefix of every hashed pair. */
  private readonly key = randomBytes(32).toString('base64url');
  private readonly entries: LRUCache<string, Remembered> | undefined;

  constructor(
    maxEntries: number,
    private readonly maxAgeMs: number,
    private readonly now: () => number,
  ) {
    this.entries = maxEntries > 0 ? boundedLru<string, Remembered>(maxEntries) : undefined;
  }

  /** Whether `secret` was verified for `clientId` against a hash and version the row still has. */
  recalls(presented: PresentedSecret, state: ClientState): boolean {
    if (!this.entries) return false;
    const mac = this.mac(presented);
    const entry = this.entries.get(mac);
    if (!entry) return false;
    const valid =
      entry.clientId === presented.clientId &&
      state.enabled &&
      entry.version === state.version &&
      state.acceptedHashes.includes(entry.hash) &&
      this.now() - entry.at < this.maxAgeMs;
    if (!valid) this.entries.delete(mac);
    return valid;
  }

  /**
   * Whether an entry for exactly this id and secret is held and young enough, without any client row:
   * one hash, no store read. A cheap pre-check only; {@link recalls} against the row still decides.
   */
  holds(presented: PresentedSecret): boolean {
    const entry = this.entries?.peek(this.mac(presented));
    return entry !== undefined && entry.clientId === presented.clientId && this.now() - entry.at < this.maxAgeMs;
  }

  /** Records that bcrypt accepted `secret` for `clientId` against `hash` at `version`. */
  remember(presented: PresentedSecret, hash: string, version: number): void {
    this.entries?.set(this.mac(presented), { clientId: presented.clientId, hash, version, at: this.now() });
  }

  /** Forgets every remembered verification. */
  clear(): void {
    this.entries?.clear();
  }

  /** How many verifications are remembered (for tests and metrics). */
  get size(): number {
    return this.entries?.size ?? 0;
  }

  private mac(presented: PresentedSecret): string {
    // One native call over the whole message, once per presented secret; an entry also holds its id,
    // compared on every lookup.
    return (presented.digest ??= hash('sha256', `${this.key}\0${presented.clientId}\0${presented.secret}`, 'base64url'));
  }
}
