// Token verifiers for an issuer in another process: JWTs checked against its in-memory JWKS, or any token asked of its introspection endpoint (RFC 7662) with a short bounded cache.
import { createHash } from 'node:crypto';
import { InvalidTokenError, TemporarilyUnavailableError } from '../model/errors';
import type { Logger } from '../model/logger';
import { SIGNING_ALGORITHMS } from '../tokens/keys';
import type { RemoteIssuer } from './remote-issuer';
import { parseScope } from '../model/scope';
import type { BoundTokenVerifier, BoundVerification } from './token-cache';
import { MAX_TOKEN_LENGTH, verifyAccessToken, type AccessTokenClaims, type KeyResolver, type VerifiedAccessToken } from '../tokens/jwt';
import { isReferenceToken } from '../issuing/reference-tokens';

/** What a remote verifier insists on. */
export interface RemoteExpectations {
  /** Accepted audiences; the token's `aud` must contain one. */
  audience: readonly string[];
  acceptScp: boolean;
  clockTolerance: number;
  clock: () => number;
}

/**
 * Verifies JWT access tokens of a remote issuer with no network I/O once its keys are in memory.
 * `createResourceServer()` builds one per guard; use it directly to wrap it in another verifier.
 *
 * @example
 * const issuer = new RemoteIssuer({ issuer: 'https://auth.internal', fetchTimeout: 5000, jwksCooldown: 2000, jwksRefreshInterval: 300_000, logger: console });
 * const verifier = new JwksVerifier(issuer, { audience: ['orders'], acceptScp: false, clockTolerance: 5, clock: Date.now });
 * const { clientId, scopes } = await verifier.verify(token);
 */
export class JwksVerifier implements BoundTokenVerifier {
  constructor(
    private readonly issuer: RemoteIssuer,
    private readonly expect: RemoteExpectations,
  ) {}

  verify(token: string): Promise<VerifiedAccessToken> {
    return this.check(token, this.issuer.resolveKey);
  }

  /**
   * Verifies and says how long the result stands: while the issuer still publishes the same key under
   * the token's kid. A verification during which the key set changed is not vouched for.
   */
  async verifyBound(token: string): Promise<BoundVerification> {
    const version = this.issuer.keySetVersion;
    let usedKid: string | undefined;
    const verified = await this.check(token, (kid, alg) => {
      usedKid = kid;
      return this.issuer.resolveKey(kid, alg);
    });
    const kid = usedKid;
    const material = kid !== undefined && version === this.issuer.keySetVersion ? this.issuer.publishedKey(kid) : undefined;
    return {
      verified,
      stillHolds: kid === undefined || material === undefined ? undefined : () => this.issuer.publishedKey(kid) === material,
    };
  }

  private check(token: string, resolveKey: KeyResolver): Promise<VerifiedAccessToken> {
    // An opaque token cannot be checked against keys: say what would check it, rather than "malformed"
    // (the description names an option of this guard, nothing about the token or the issuer).
    if (isReferenceToken(token)) {
      return Promise.reject(
        new InvalidTokenError("the access token is opaque, not a JWT; this guard checks JWTs only (opaque tokens need the guard's introspection option)"),
      );
    }
    return verifyAccessToken(token, resolveKey, {
      issuer: this.issuer.options.issuer,
      audience: this.expect.audience,
      algorithms: SIGNING_ALGORITHMS,
      clockTolerance: this.expect.clockTolerance,
      clock: this.expect.clock,
      acceptScp: this.expect.acceptScp,
    });
  }
}

/** Credentials of the resource server at the introspection endpoint, and its cache bounds. */
export interface IntrospectionClient {
  clientId: string;
  clientSecret: string;
  /** Seconds an answer is reused (never past the token's `exp`). */
  cacheTtl: number;
  /** Most answers kept; the oldest go first. */
  cacheMax: number;
}

/** RFC 6749 §2.3.1: id and secret are form-encoded before they go into Basic credentials. */
function basicCredentials(id: string, secret: string): string {
  const encode = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

/**
 * Asks the issuer's introspection endpoint (RFC 7662) about each token, so a revocation takes effect
 * within `cacheTtl` seconds. Costs one request to the issuer per token per TTL; works for reference tokens.
 * Only active answers are cached; the cache holds at most `cacheMax` of them, oldest dropped first.
 *
 * @example
 * const verifier = new IntrospectionVerifier(issuer, { clientId, clientSecret, cacheTtl: 10, cacheMax: 10_000 }, expectations, logger);
 */
export class IntrospectionVerifier {
  private readonly cache = new Map<string, { verified: VerifiedAccessToken; until: number }>();
  /** Refused tokens, kept apart so a flood of garbage cannot evict the good ones, and so a repeated bad token costs no request. */
  private readonly refused = new Map<string, { error: InvalidTokenError; until: number }>();

  constructor(
    private readonly issuer: RemoteIssuer,
    private readonly client: IntrospectionClient,
    private readonly expect: RemoteExpectations,
    private readonly logger: Logger,
  ) {}

  async verify(token: string): Promise<VerifiedAccessToken> {
    if (token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError('the access token is too long');
    const key = createHash('sha256').update(token).digest('base64url');
    const now = this.expect.clock();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.verified;
    if (hit) this.cache.delete(key);
    const refusal = this.refused.get(key);
    if (refusal && refusal.until > now) throw refusal.error;
    if (refusal) this.refused.delete(key);
    let verified: VerifiedAccessToken;
    try {
      verified = this.check(await this.ask(token));
    } catch (err) {
      if (err instanceof InvalidTokenError) {
        if (this.refused.size >= this.client.cacheMax) this.refused.delete(this.refused.keys().next().value as string);
        this.refused.set(key, { error: err, until: now + this.client.cacheTtl * 1000 });
      }
      throw err;
    }
    if (this.cache.size >= this.client.cacheMax) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, { verified, until: Math.min(now + this.client.cacheTtl * 1000, verified.claims.exp * 1000) });
    return verified;
  }

  private async ask(token: string): Promise<Record<string, unknown>> {
    const { introspection_endpoint: endpoint } = await this.issuer.getMetadata();
    const retry = this.issuer.options.jwksCooldown / 1000;
    if (!endpoint) throw new TemporarilyUnavailableError('the token issuer offers no introspection endpoint', retry);
    let res: Response;
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        headers: {
          authorization: basicCredentials(this.client.clientId, this.client.clientSecret),
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token }).toString(),
        signal: AbortSignal.timeout(this.issuer.options.fetchTimeout),
      });
    } catch (err) {
      throw new TemporarilyUnavailableError('the token issuer could not be reached for introspection', retry, { cause: err });
    }
    if (res.status !== 200) {
      this.logger.error(`the introspection endpoint answered ${res.status}; check the guard's introspection credentials`);
      throw new TemporarilyUnavailableError('the token issuer refused to introspect the token', retry);
    }
    const body = (await res.json().catch(() => null)) as unknown;
    if (typeof body !== 'object' || body === null) throw new TemporarilyUnavailableError('the introspection answer is malformed', retry);
    return body as Record<string, unknown>;
  }

  /** The same checks as for a JWT, on the RFC 7662 §2.2 members. */
  private check(body: Record<string, unknown>): VerifiedAccessToken {
    if (body.active !== true) throw new InvalidTokenError('the access token is not active');
    if (body.iss !== undefined && body.iss !== this.issuer.options.issuer) {
      throw new InvalidTokenError('the access token was issued by another issuer');
    }
    const aud = typeof body.aud === 'string' ? [body.aud] : Array.isArray(body.aud) ? body.aud : [];
    if (!this.expect.audience.some((a) => aud.includes(a))) {
      throw new InvalidTokenError('the access token is not meant for this audience');
    }
    const scopes = typeof body.scope === 'string' ? (body.scope === '' ? [] : parseScope(body.scope)) : [];
    const clientId = body.client_id ?? body.sub;
    if (!scopes || typeof clientId !== 'string' || typeof body.exp !== 'number') {
      throw new InvalidTokenError('the introspection answer lacks required members');
    }
    const { active: _active, token_type: _type, ...claims } = body;
    return { clientId, scopes, claims: { ...claims, client_id: clientId } as AccessTokenClaims };
  }
}
