// Verified-token cache: a verifier that remembers tokens another verifier accepted, each only until its exp, forgotten on any store change.
import type { LRUCache } from 'lru-cache';
import { boundedLru } from '../model/bounded-lru';
import { deepFreeze } from '../model/deep-freeze';
import type { VerifiedAccessToken } from '../tokens/jwt';

/** Anything that turns a bearer token into verified claims (structurally the guard's `TokenVerifier`). */
export interface AccessTokenVerifier {
  verify(token: string): Promise<VerifiedAccessToken>;
}

/** A verification whose result rests on state that may change later (a remote key set). */
export interface BoundVerification {
  verified: VerifiedAccessToken;
  /** Whether what accepted the token still stands; undefined when the result must not be remembered. */
  stillHolds: (() => boolean) | undefined;
}

/** A verifier that can say, for each token it accepts, whether that acceptance still holds later. */
export interface BoundTokenVerifier extends AccessTokenVerifier {
  verifyBound(token: string): Promise<BoundVerification>;
}

interface Entry {
  /** The whole token, compared on every hit: the key is only its last characters. */
  token: string;
  verified: VerifiedAccessToken;
  stillHolds: (() => boolean) | undefined;
}

function isBound(verifier: AccessTokenVerifier): verifier is BoundTokenVerifier {
  return typeof (verifier as Partial<BoundTokenVerifier>).verifyBound === 'function';
}

/** Characters of a token's end that key its entry: about 128 bits of a JWS signature (or of a reference token). */
const KEY_LENGTH = 22;

/**
 * The last {@link KEY_LENGTH} characters of the token: for a JWS, the end of its signature, unique to
 * its token in practice. A short key because the key of a lookup is a new string every request and
 * hashing it is the lookup's cost: the whole signature part (342 characters for RS256) took about
 * half a microsecond, a SHA-256 of the token a microsecond. A hit counts only when the whole token
 * is the one cached, so a token that shares an entry's key (forged or by chance) never gets another
 * token's claims.
 */
function cacheKey(token: string): string {
  return token.slice(-KEY_LENGTH);
}

/**
 * Wraps a verifier so a token seen again skips signature verification. Entries are keyed by the
 * token's last characters and hold the token, compared whole on every hit (the process verifying a
 * token holds it anyway; the cache is bounded), bounded in count (least recently used go
 * first), and used only while the clock is inside the token's `nbf`..`exp` window: the time claims are
 * checked on every request, anything outside goes back to the wrapped verifier, which decides (with
 * its clock tolerance). {@link CachingTokenVerifier.clear} is wired to the change watcher, so a
 * revocation or a disabled client stops a cached token at once locally and within one poll interval
 * when another process made the change. Only successes are cached, deeply frozen, since every request
 * with that token shares them. When the wrapped verifier is a {@link BoundTokenVerifier} (a remote
 * guard's JWKS verifier), an entry also counts only while the key that verified it is still published.
 *
 * @example
 * const verifier = new CachingTokenVerifier(inner, { maxEntries: 10_000, clock: Date.now });
 * server.changes.subscribe(() => verifier.clear());
 */
export class CachingTokenVerifier implements AccessTokenVerifier {
  private readonly entries: LRUCache<string, Entry> | undefined;
  /** Bumped by clear(): a verification that started before a change must not land in the cache after it. */
  private generation = 0;

  constructor(
    private readonly inner: AccessTokenVerifier,
    private readonly options: { maxEntries: number; clock: () => number; onLookup?: (hit: boolean) => void },
  ) {
    this.entries = options.maxEntries > 0 ? boundedLru<string, Entry>(options.maxEntries) : undefined;
  }

  /**
   * The cached verification of `token` if there is one that still holds, with no promise: the
   * guard's fast path. It is the entry's own frozen object, the same for every request with the token.
   */
  verifyCached(token: string): VerifiedAccessToken | undefined {
    const cached = this.entries?.get(cacheKey(token));
    if (cached && cached.token === token && this.inWindow(cached.verified) && (!cached.stillHolds || cached.stillHolds())) {
      this.options.onLookup?.(true);
      return cached.verified;
    }
    return undefined;
  }

  async verify(token: string): Promise<VerifiedAccessToken> {
    if (!this.entries) return this.inner.verify(token);
    const hit = this.verifyCached(token);
    if (hit) return hit;
    const key = cacheKey(token);
    const cached = this.entries.get(key);
    this.options.onLookup?.(false);
    // An entry of another token with the same key stays: this one will not replace it unless it verifies.
    if (cached && cached.token === token) this.entries.delete(key);
    const generation = this.generation;
    const { verified, stillHolds } = isBound(this.inner)
      ? await this.inner.verifyBound(token)
      : { verified: await this.inner.verify(token), stillHolds: undefined };
    const remember = !isBound(this.inner) || stillHolds !== undefined;
    if (remember && generation === this.generation && this.inWindow(verified)) {
      // A copy of exactly the shared fields, frozen: a guard hands it on as `req.auth` unchanged.
      const shared = deepFreeze({ clientId: verified.clientId, scopes: verified.scopes, claims: verified.claims });
      this.entries.set(key, { token, verified: shared, stillHolds });
      return shared;
    }
    return verified;
  }

  /** Forgets every cached token (called on every store change: revocations, disabled clients, keys). */
  clear(): void {
    this.generation++;
    this.entries?.clear();
  }

  /** How many tokens are cached. */
  get size(): number {
    return this.entries?.size ?? 0;
  }

  /** Strictly inside `nbf` (if any) .. `exp`, with no tolerance: the edges are left to the wrapped verifier. */
  private inWindow(token: VerifiedAccessToken): boolean {
    const nowSeconds = this.options.clock() / 1000;
    const { exp, nbf } = token.claims;
    if (!(nowSeconds < exp)) return false;
    return typeof nbf !== 'number' || nbf <= nowSeconds;
  }
}
