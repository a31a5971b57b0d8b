// Remembered secret verifications: a keyed hash of a secret bcrypt already accepted, tied to the stored hash and client version it matched.
import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';

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

/** The stored state a remembered verification is checked against on every request. */
export interface ClientState {
  version: number;
  enabled: boolean;
  acceptedHashes: readonly string[];
}

/**
 * Remembers that bcrypt accepted a client's secret, so a returning client costs one HMAC instead of a
 * bcrypt comparison. Only `HMAC-SHA256(processKey, id NUL secret)` is kept, under a key drawn at
 * construction and never stored, so the memory is worthless outside this process and never holds the
 * secret. An entry counts only while the caller's freshly read client row is enabled, has the same
 * version, and still accepts the bcrypt hash that matched: a rotation, a disabling or a deletion by
 * any process ends it on the next request that reads the row, with no timer trusted alone.
 * Bounded in count (least recently used go first) and in age.
 */
export class SecretMemory {
  /** A KeyObject: createHmac takes it as it is, where a Buffer key is imported again on every call. */
  private readonly key = createSecretKey(randomBytes(32));
  private readonly entries: LRUCache<string, Remembered> | undefined;

  constructor(
    maxEntries: number,
    private readonly maxAgeMs: number,
    private readonly now: () => number,
  ) {
    this.entries = maxEntries > 0 ? new LRUCache({ max: maxEntries }) : undefined;
  }

  /** Whether `secret` was verified for `clientId` against a hash and version the row still has. */
  recalls(clientId: string, secret: string, state: ClientState): boolean {
    if (!this.entries) return false;
    const mac = this.mac(clientId, secret);
    const entry = this.entries.get(mac);
    if (!entry) return false;
    const valid =
      entry.clientId === clientId &&
      state.enabled &&
      entry.version === state.version &&
      state.acceptedHashes.includes(entry.hash) &&
      this.now() - entry.at < this.maxAgeMs;
    if (!valid) this.entries.delete(mac);
    return valid;
  }

  /**
   * Whether an entry for exactly this id and secret is held and young enough, without any client row:
   * one HMAC, no store read. A cheap pre-check only; {@link recalls} against the row still decides.
   */
  holds(clientId: string, secret: string): boolean {
    const entry = this.entries?.peek(this.mac(clientId, secret));
    return entry !== undefined && entry.clientId === clientId && this.now() - entry.at < this.maxAgeMs;
  }

  /** Records that bcrypt accepted `secret` for `clientId` against `hash` at `version`. */
  remember(clientId: string, secret: string, hash: string, version: number): void {
    this.entries?.set(this.mac(clientId, secret), { clientId, hash, version, at: this.now() });
  }

  /** Forgets every remembered verification. */
  clear(): void {
    this.entries?.clear();
  }

  /** How many verifications are remembered (for tests and metrics). */
  get size(): number {
    return this.entries?.size ?? 0;
  }

  private mac(clientId: string, secret: string): string {
    // One update of the same bytes (id NUL secret): one native call instead of three.
    return createHmac('sha256', this.key).update(`${clientId}\0${secret}`).digest('base64url');
  }
}
