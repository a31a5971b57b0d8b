// createResourceServer(): guards for a service with no database that checks the tokens of an authorization server in another process.
import { RemoteIssuer } from './core/verification/remote-issuer';
import { IntrospectionVerifier, JwksVerifier } from './core/verification/remote-verifiers';
import { CachingTokenVerifier } from './core/verification/token-cache';
import { createRequireScope, type GuardRuntime, type RequireScope } from './express/require-scope';
import {
  resolveResourceServerOptions,
  type GuardOptions,
  type ResolvedResourceServerOptions,
  type ResourceServerOptions,
} from './options';

/** A resource server bound to one remote issuer. */
export interface ResourceServer {
  /** Guards checking the issuer's tokens: `requireScope('read')`, `requireScope.any('a', 'b')`. */
  readonly requireScope: RequireScope;
  /** Fetches the issuer's metadata and keys now (else the first request does). Rejects if the issuer is unreachable. */
  ready(): Promise<void>;
  /** Stops the background JWKS refresh. */
  close(): void;
}

/** One remote guard's runtime: per-guard options (audience, realm, ...) over the shared issuer. */
export function remoteGuardRuntime(issuer: RemoteIssuer, options: ResolvedResourceServerOptions): GuardRuntime {
  const expect = {
    audience: options.audience,
    acceptScp: options.acceptScp,
    clockToleranceSeconds: options.clockTolerance,
    clock: options.clock,
  };
  return {
    // Introspection keeps its own short cache (revocations seen within cacheTtl); a JWKS guard
    // remembers verified tokens while their key is still published and the clock is inside nbf..exp.
    verifier: options.introspection
      ? new IntrospectionVerifier(issuer, options.introspection, expect, options.logger)
      : new CachingTokenVerifier(new JwksVerifier(issuer, expect), { maxEntries: options.tokenCacheSize, now: options.clock }),
    realm: options.realm,
    allowBodyToken: options.allowBodyToken,
    logger: options.logger,
  };
}

/** The {@link RemoteIssuer} behind resolved options. */
export function remoteIssuerFor(options: ResolvedResourceServerOptions): RemoteIssuer {
  return new RemoteIssuer({
    issuer: options.issuer,
    fetchTimeoutMs: options.fetchTimeout,
    jwksCooldownMs: options.jwksCooldown,
    jwksRefreshIntervalMs: options.jwksRefreshInterval,
    logger: options.logger,
    clock: options.clock,
  });
}

/**
 * Guards for a service that only checks tokens. It reads the issuer's RFC 8414 metadata and JWKS
 * once (at `ready()` or the first request), keeps the keys in memory, refetches them for an unknown
 * `kid` (one fetch shared by all callers, at most one per `jwksCooldown`, default 2000 ms; a request with a new kid waits for it rather than failing) and in the background (every
 * `jwksRefreshInterval`, default 5 min), and keeps the last good keys when the issuer is down.
 * Each guard remembers up to `tokenCacheSize` (default 10000) verified tokens: `exp`/`nbf` are still
 * checked on every request, and a remembered token stops counting once the key set drops or replaces
 * the key that verified it.
 * Before the keys could ever be fetched, guarded requests get `503 temporarily_unavailable` with
 * `Retry-After`. Each guard may override `audience`, `realm`, `allowBodyToken` and `acceptScp`.
 * With `introspection`, every token is checked at the issuer instead (revocation seen within
 * `cacheTtl`, default 10 s; reference tokens work too).
 *
 * @example
 * const orders = createResourceServer({ issuer: 'https://auth.internal', audience: 'https://orders.internal' });
 * app.get('/orders', orders.requireScope('orders:read'), handler);
 * await orders.ready(); // optional: fail fast at start-up
 */
export function createResourceServer(options: ResourceServerOptions): ResourceServer {
  const resolved = resolveResourceServerOptions(options);
  const issuer = remoteIssuerFor(resolved);
  const requireScope = createRequireScope((guard: GuardOptions) => {
    if (guard.issuer !== undefined && guard.issuer !== resolved.issuer) {
      throw new TypeError('a resource server guard cannot name another issuer');
    }
    const runtime = remoteGuardRuntime(issuer, resolveResourceServerOptions({ ...options, ...stripUndefined(guard), issuer: resolved.issuer }));
    return () => runtime;
  });
  return { requireScope, ready: () => issuer.ready(), close: () => issuer.close() };
}

function stripUndefined(guard: GuardOptions): Partial<ResourceServerOptions> {
  return Object.fromEntries(Object.entries(guard).filter(([, v]) => v !== undefined)) as Partial<ResourceServerOptions>;
}
