// createResourceServer(): guards for a service with no database that checks the tokens of an authorization server in another process.
import type { Router } from 'express';
import { RemoteIssuer } from './core/verification/remote-issuer';
import { OAuthMetrics } from './core/observability/metrics';
import { ProtectedResources } from './core/verification/protected-resource';
import { createHealthRouter } from './express/health-router';
import { createResourceMetadataRouter } from './express/resource-metadata-router';
import {
  resolveHealthRouterOptions,
  resolveResourceMetadataOptions,
  type HealthRouterOptions,
  type ResourceMetadataOptions,
} from './options';
import { IntrospectionVerifier, JwksVerifier } from './core/verification/remote-verifiers';
import { CachingTokenVerifier } from './core/verification/token-cache';
import { MemoryClaims, StoreClaims, type OneTimeClaims } from './core/verification/replay-cache';
import { DpopChecker } from './core/dpop/binding';
import { createRequireScope, type GuardRuntime, type RequireScope } from './express/require-scope';
import {
  resolveRemoteGuardOptions,
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
  /**
   * Serves this resource's RFC 9728 metadata (default resource: the first `audience`; authorization
   * server: the issuer) at `/.well-known/oauth-protected-resource<path>`; guards accepting it then
   * name the URL in their challenges (`resource_metadata`, §5.1). Mount at the origin's root.
   */
  resourceMetadataRouter(options?: ResourceMetadataOptions): Router;
  /** Liveness (`/healthz`) and readiness (`/readyz`: the issuer's metadata and keys have been fetched; 503 otherwise). */
  healthRouter(options?: HealthRouterOptions): Router;
}

/** What a remote guard reports to besides its verifier: the metadata registry and the metrics; and where it claims DPoP proof jtis. */
export interface RemoteGuardHooks {
  resources?: ProtectedResources;
  /** Proof jtis seen by this resource server's guards (RFC 9449 §11.1); default: a cache of the guard's own. */
  dpopClaims?: OneTimeClaims;
  metrics?: OAuthMetrics;
}

/** One remote guard's runtime: per-guard options (audience, realm, ...) over the shared issuer. */
export function remoteGuardRuntime(issuer: RemoteIssuer, options: ResolvedResourceServerOptions, hooks: RemoteGuardHooks = {}): GuardRuntime {
  const { resources, metrics } = hooks;
  const expect = {
    audience: options.audience,
    acceptScp: options.acceptScp,
    clockTolerance: options.clockTolerance,
    clock: options.clock,
  };
  return {
    // Introspection keeps its own short cache (revocations seen within cacheTtl); a JWKS guard
    // remembers verified tokens while their key is still published and the clock is inside nbf..exp.
    verifier: options.introspection
      ? new IntrospectionVerifier(issuer, options.introspection, expect, options.logger)
      : new CachingTokenVerifier(new JwksVerifier(issuer, expect), {
          maxEntries: options.tokenCacheSize,
          clock: options.clock,
          ...(metrics?.live ? { onLookup: (hit: boolean) => metrics.cacheLookup('verified_token', hit) } : {}),
        }),
    realm: options.realm,
    allowBodyToken: options.allowBodyToken,
    logger: options.logger,
    dpop: {
      mode: options.dpop,
      publicBaseUrl: options.publicBaseUrl,
      checker: new DpopChecker({
        proofMaxAge: options.dpopProof.proofMaxAge,
        clockTolerance: options.clockTolerance,
        clock: options.clock,
        claims:
          hooks.dpopClaims ??
          (options.replayStore ? new StoreClaims(options.replayStore) : new MemoryClaims(options.dpopProof.replayCacheSize)),
        namespace: 'dpop:resource',
        // RFC 9449 §9: the resource server's nonce secrets, for the guards that ask for nonces (dpopNonce).
        ...(options.dpopNonce ? { nonceSecrets: options.dpopProof.nonceSecrets, nonceStep: options.dpopProof.nonceStep } : {}),
      }),
    },
    ...(resources ? { resourceMetadata: () => resources.metadataUrlFor(options.audience) } : {}),
    ...(metrics?.live ? { onDecision: (decision) => metrics.guardDecision(decision) } : {}),
  };
}

/** The {@link RemoteIssuer} behind resolved options. */
export function remoteIssuerFor(options: ResolvedResourceServerOptions): RemoteIssuer {
  const { issuer, fetchTimeout, jwksCooldown, jwksRefreshInterval, logger, clock } = options;
  return new RemoteIssuer({ issuer, fetchTimeout, jwksCooldown, jwksRefreshInterval, logger, clock });
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
 * `Retry-After`. Each guard may override `audience`, `realm`, `allowBodyToken`, `acceptScp`,
 * `tokenCacheSize` and `introspection`; its options are resolved once, when it is created.
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
  const resources = new ProtectedResources();
  const metrics = new OAuthMetrics(resolved.metrics);
  // One bounded jti cache for every guard of this service: a proof replayed to another route is refused too.
  const dpopClaims: OneTimeClaims = resolved.replayStore
    ? new StoreClaims(resolved.replayStore)
    : new MemoryClaims(resolved.dpopProof.replayCacheSize);
  const requireScope = createRequireScope((guard: GuardOptions, scopes) => {
    // Resolved once, when the guard is created: its own options checked, the rest its server's.
    const guardOptions = resolveRemoteGuardOptions(guard, resolved);
    resources.declare({ audiences: guardOptions.audience, scopes, allowBodyToken: guardOptions.allowBodyToken });
    const runtime = remoteGuardRuntime(issuer, guardOptions, { resources, metrics, dpopClaims });
    return () => runtime;
  });
  return {
    requireScope,
    ready: () => issuer.ready(),
    close: () => issuer.close(),
    resourceMetadataRouter: (metadataOptions) =>
      createResourceMetadataRouter(
        resources,
        resolveResourceMetadataOptions(metadataOptions, { resource: resolved.audience[0] as string, authorizationServers: [resolved.issuer] }),
      ),
    healthRouter: (healthOptions) =>
      createHealthRouter([{ name: 'issuer', check: () => issuer.ready() }], resolveHealthRouterOptions(healthOptions), resolved.logger),
  };
}
