// An authorization server seen from another process: its RFC 8414 metadata and RFC 7517 key set, fetched once and kept in memory (jose's remote JWK set).
import type { KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors } from 'jose';
import { TemporarilyUnavailableError } from '../model/errors';
import type { Logger } from '../model/logger';
import type { SigningAlgorithm } from '../tokens/keys';
import type { VerificationKey } from '../tokens/jwt';

/** How a {@link RemoteIssuer} fetches. Durations in milliseconds. */
export interface RemoteIssuerOptions {
  issuer: string;
  /** A metadata, JWKS or introspection request gives up after this long. */
  fetchTimeout: number;
  /** At most one JWKS refetch per this long for unknown key ids, and one warm-up retry after a failure. */
  jwksCooldown: number;
  /** Background JWKS refresh period, so retired keys drop out. */
  jwksRefreshInterval: number;
  logger: Logger;
  /**
   * Current time, epoch ms (the `clock` option): cooldowns are measured on it. The waits themselves
   * are `setTimeout` / `setInterval`, so a test drives both with the clock and fake timers.
   */
  clock?: () => number;
}

/** The RFC 8414 members a resource server reads. */
export interface IssuerMetadata {
  issuer: string;
  jwks_uri: string;
  introspection_endpoint?: string;
}

/** RFC 8414 §3.1: `/.well-known/oauth-authorization-server` goes between the host and the issuer's path. */
export function wellKnownMetadataPath(issuer: string): string {
  return `/.well-known/oauth-authorization-server${new URL(issuer).pathname.replace(/\/+$/, '')}`;
}

function readMetadata(body: unknown, issuer: string): IssuerMetadata {
  const doc = body as Partial<Record<keyof IssuerMetadata, unknown>> | null;
  // RFC 8414 §3.3: the document must name the issuer we asked about, or it must not be used.
  if (typeof doc !== 'object' || doc === null || doc.issuer !== issuer) {
    throw new Error('the authorization server metadata names another issuer (RFC 8414 §3.3)');
  }
  if (typeof doc.jwks_uri !== 'string') throw new Error('the authorization server metadata has no jwks_uri');
  new URL(doc.jwks_uri);
  return {
    issuer,
    jwks_uri: doc.jwks_uri,
    ...(typeof doc.introspection_endpoint === 'string' ? { introspection_endpoint: doc.introspection_endpoint } : {}),
  };
}

/**
 * Metadata and keys of one issuer. Warm-up fetches the metadata and the JWKS; after that a request
 * needs no network: the key set is only refetched for an unknown `kid` (one fetch shared by all
 * callers, at most one per cooldown) and in the background. A failed fetch keeps the last good keys
 * (jose replaces its set only on success). Before the first successful warm-up, requests get a 503
 * with `Retry-After`.
 *
 * jose v5 is used (not v6) because it ships CommonJS, which our build and jest load with `require`.
 *
 * @example
 * const issuer = new RemoteIssuer({ issuer: 'https://auth.internal', fetchTimeout: 5000, jwksCooldown: 2000, jwksRefreshInterval: 300_000, logger: console });
 * await issuer.ready();
 */
export class RemoteIssuer {
  private metadata: IssuerMetadata | undefined;
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  private warming: Promise<void> | undefined;
  private lastFailureAt = -Infinity;
  private lastFetchAt = -Infinity;
  private refetching: Promise<void> | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  /** kid → the published key material under it, as of the last successful fetch. */
  private published = new Map<string, string>();
  private keySetChanges = 0;

  private readonly now: () => number;

  constructor(readonly options: RemoteIssuerOptions) {
    this.now = options.clock ?? Date.now;
  }

  /** Whether metadata and keys have been fetched once. */
  get warm(): boolean {
    return this.jwks !== undefined;
  }

  /** Fetches metadata and keys (once; concurrent callers share it). Rejects when the issuer cannot be reached. */
  ready(): Promise<void> {
    if (this.jwks) return Promise.resolve();
    this.warming ??= this.warmUp().finally(() => (this.warming = undefined));
    return this.warming;
  }

  /** The issuer's metadata; 503 while it could never be fetched. */
  async getMetadata(): Promise<IssuerMetadata> {
    await this.whenWarm();
    return this.metadata as IssuerMetadata;
  }

  /**
   * A {@link KeyResolver} over the in-memory key set. An unknown `kid` triggers one refetch that
   * every concurrent caller shares, at most one per cooldown: a caller arriving during the cooldown
   * waits for its end rather than failing, so a token signed with a just-rotated key is accepted.
   */
  resolveKey = async (kid: string, alg: SigningAlgorithm): Promise<VerificationKey | undefined> => {
    await this.whenWarm();
    const known = await this.lookUp(kid, alg);
    if (known) return known;
    try {
      await this.refetch();
    } catch (err) {
      // The known keys stay; only this token, signed with a key we never saw, cannot be checked now.
      throw this.unavailable(err);
    }
    return this.lookUp(kid, alg);
  };

  /**
   * The key material published under `kid` in the current key set (undefined once the issuer drops
   * it): a verified-token cache compares it with what it was when the token was verified, so a token
   * stops counting when its key is removed or replaced by a refresh or a rotation.
   */
  publishedKey(kid: string): string | undefined {
    return this.published.get(kid);
  }

  /** Counts fetches that removed or replaced a key: a verification that spans one cannot tell which key it used. */
  get keySetVersion(): number {
    return this.keySetChanges;
  }

  /** Stops the background refresh. */
  close(): void {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
  }

  private async whenWarm(): Promise<void> {
    if (this.jwks) return;
    if (!this.warming && this.now() - this.lastFailureAt < this.options.jwksCooldown) throw this.unavailable();
    try {
      await this.ready();
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  private async lookUp(kid: string, alg: SigningAlgorithm): Promise<VerificationKey | undefined> {
    const jwks = this.jwks as NonNullable<typeof this.jwks>;
    try {
      return { alg, publicKey: (await jwks({ alg, kid })) as KeyObject };
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys)) {
        // A published key jose cannot import: the token is refused as signed with an unknown key.
        this.options.logger.warn(`the JWKS of ${this.options.issuer} has an unusable key ${JSON.stringify(kid)}`);
      }
      return undefined;
    }
  }

  /** One JWKS fetch shared by every caller, started no sooner than a cooldown after the previous one. */
  private refetch(): Promise<void> {
    this.refetching ??= (async () => {
      const wait = this.lastFetchAt + this.options.jwksCooldown - this.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      try {
        await (this.jwks as NonNullable<typeof this.jwks>).reload();
        this.indexKeys();
      } finally {
        this.lastFetchAt = this.now();
        this.refetching = undefined;
      }
    })();
    return this.refetching;
  }

  private unavailable(cause?: unknown): TemporarilyUnavailableError {
    return new TemporarilyUnavailableError(
      'the token issuer could not be reached to fetch its signing keys',
      this.options.jwksCooldown / 1000,
      { cause },
    );
  }

  private async warmUp(): Promise<void> {
    const { issuer, fetchTimeout } = this.options;
    try {
      this.metadata ??= await this.fetchMetadata();
      const jwks = createRemoteJWKSet(new URL(this.metadata.jwks_uri), {
        // jose never refetches by itself: the set is never stale on the request path, and unknown
        // kids go through refetch() (shared, paced by the cooldown) rather than jose's fail-fast cooldown.
        cacheMaxAge: Infinity,
        cooldownDuration: Infinity,
        timeoutDuration: fetchTimeout,
      });
      await jwks.reload();
      this.lastFetchAt = this.now();
      this.jwks = jwks;
      this.indexKeys();
      this.startRefresh();
    } catch (err) {
      this.lastFailureAt = this.now();
      this.options.logger.warn(`could not fetch the metadata and keys of ${issuer}: ${err instanceof Error ? err.message : 'error'}`);
      throw err;
    }
  }

  private async fetchMetadata(): Promise<IssuerMetadata> {
    const { issuer, fetchTimeout } = this.options;
    const url = new URL(wellKnownMetadataPath(issuer), issuer);
    const res = await fetch(url, { signal: AbortSignal.timeout(fetchTimeout), headers: { accept: 'application/json' } });
    if (res.status !== 200) throw new Error(`the metadata request answered ${res.status}`);
    return readMetadata(await res.json(), issuer);
  }

  /** Rebuilds {@link publishedKey}'s index from the key set jose now holds. */
  private indexKeys(): void {
    const next = new Map<string, string>();
    for (const jwk of this.jwks?.jwks()?.keys ?? []) {
      if (typeof jwk.kid !== 'string') continue;
      const material = JSON.stringify([jwk.kty, jwk.alg, jwk.crv, jwk.x, jwk.y, jwk.n, jwk.e]);
      // Two keys under one kid are refused by lookUp(); the pair still identifies what was published.
      next.set(jwk.kid, next.has(jwk.kid) ? `${next.get(jwk.kid)}|${material}` : material);
    }
    // Only a kid that was published and is now gone or different can mislead a verification in flight;
    // keys added (at warm-up, or for a token's new kid) cannot.
    const changed = [...this.published].some(([kid, material]) => next.get(kid) !== material);
    this.published = next;
    if (changed) this.keySetChanges++;
  }

  private startRefresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setInterval(() => {
      this.refetch().catch((err: unknown) =>
        this.options.logger.warn(`JWKS refresh failed, keeping the last good keys: ${err instanceof Error ? err.message : 'error'}`),
      );
    }, this.options.jwksRefreshInterval);
    this.refreshTimer.unref();
  }
}
