// Client ids and secrets: generation from crypto.randomBytes, bcrypt hashing (async only) and constant-shape verification.
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';

/** bcrypt reads at most 72 bytes of its input; a longer presented secret can never be one of ours. */
export const MAX_SECRET_BYTES = 72;

/** Length of every client id this library generates; a longer claimed id is refused before it is counted. */
export const MAX_CLIENT_ID_LENGTH = 32;

/** A new client id: 128 random bits as 32 lowercase hex characters (URL-safe, never starts with `-`). */
export function generateClientId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * The claimed client id as an audit event may show it: only when it has the shape of an id this
 * library generates. A caller who swapped id and secret would otherwise put the secret in the log.
 */
export function auditableClientId(claimed: string | undefined): string | undefined {
  return claimed !== undefined && /^[0-9a-f]{32}$/.test(claimed) ? claimed : undefined;
}

/** A new client secret: 256 random bits, base64url (43 characters, well under bcrypt's 72-byte limit). */
export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** bcrypt hash of a secret, computed on libuv's thread pool. */
export function hashSecret(secret: string, cost: number): Promise<string> {
  return bcrypt.hash(secret, cost);
}

/**
 * Whether a presented secret could be a secret at all: non-empty, at most 72 bytes (bcrypt would
 * silently ignore the rest) and visible ASCII only (a NUL would end bcrypt's C string early).
 * Rejecting the rest needs no bcrypt and says nothing about which client ids exist.
 */
export function isPlausibleSecret(secret: string): boolean {
  return secret.length > 0 && secret.length <= MAX_SECRET_BYTES && /^[\x21-\x7E]+$/.test(secret);
}

/**
 * Checks presented secrets against bcrypt hashes, paying the same price when the client is unknown:
 * an unknown client is compared against a dummy hash of the same cost, so response time does not
 * reveal which client ids exist (RFC 6749 §10.10 asks that credentials resist guessing).
 */
export class SecretVerifier {
  private dummyHash: Promise<string> | undefined;

  constructor(private cost: number) {}

  /**
   * Switches to `cost` (the database's stored cost, issue 10.12) when it differs: the dummy hash is
   * made again at that cost, so an unknown id keeps costing what a wrong secret does.
   */
  useCost(cost: number): void {
    if (cost === this.cost) return;
    this.cost = cost;
    this.dummyHash = undefined;
    void this.getDummyHash().catch(() => undefined);
  }

  /** Starts computing the dummy hash ahead of the first request (optional). */
  warmUp(): Promise<void> {
    return this.getDummyHash().then(() => undefined);
  }

  /**
   * Resolves true when `secret` matches one of `hashes` (newest first). With no hashes (unknown
   * client, or a client without a secret) it still runs one bcrypt comparison and resolves false.
   */
  async verify(secret: string, hashes: readonly string[]): Promise<boolean> {
    return (await this.match(secret, hashes)) !== undefined;
  }

  /** Like {@link SecretVerifier.verify}, but resolves the hash that matched (undefined when none did). */
  async match(secret: string, hashes: readonly string[]): Promise<string | undefined> {
    if (hashes.length === 0) {
      const dummy = await this.getDummyHash();
      await bcrypt.compare(secret, dummy);
      return undefined;
    }
    // During a grace period a client has two hashes: compared side by side on the thread pool (within
    // one gate slot), a wrong secret takes about one comparison's time, as for an unknown id.
    const matches = await Promise.all(hashes.map((hash) => bcrypt.compare(secret, hash)));
    return hashes[matches.indexOf(true)];
  }

  private getDummyHash(): Promise<string> {
    this.dummyHash ??= bcrypt.hash(generateClientSecret(), this.cost);
    return this.dummyHash;
  }
}
