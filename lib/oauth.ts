// createOAuth(): one explicit instance (store, keys, options) that hands out its token router and its guards.
import type { Router } from 'express';
import { AuthorizationServer } from './core/issuing/authorization-server';
import type { AuditEmitter } from './core/model/events';
import type { ClientRegistry } from './core/admin/registry';
import { CachingTokenVerifier, type BoundTokenVerifier } from './core/verification/token-cache';
import type { GroupRegistry } from './core/admin/group-registry';
import { optionEnvironment } from './env';
import { createAdminRouter } from './express/admin-router';
import { createRequireScope, type GuardRuntime, type RequireScope } from './express/require-scope';
import { DpopChecker } from './core/dpop/binding';
import { createTokenRouter } from './express/token-router';
import { endpointMetrics } from './express/endpoint-metrics';
import { createHealthRouter } from './express/health-router';
import { INTROSPECTION_PATH, REVOCATION_PATH } from './express/metadata';
import { createResourceMetadataRouter } from './express/resource-metadata-router';
import { instrumentServer, metricsOf } from './core/observability/instrument';
import { protectedResourcesOf } from './core/verification/protected-resource';
import {
  resolveHealthRouterOptions,
  resolveResourceMetadataOptions,
  type HealthRouterOptions,
  type ResourceMetadataOptions,
} from './options';
import {
  bindGuardOptions,
  resolveAdminRouterOptions,
  resolveGuardOptions,
  resolveOptions,
  type AdminRouterOptions,
  type GuardOptions,
  type GuardSettings,
  type OAuthOptions,
  type ResolvedOptions,
} from './options';
import { openStore } from './store/open';

/** An authorization server and the middlewares bound to it. */
export interface OAuth {
  /** The framework-free core: client authentication, grant, signing, verification. */
  readonly server: AuthorizationServer<ResolvedOptions>;
  /** Client administration (create, rotate, disable, ...), as the CLI uses it. */
  readonly registry: ClientRegistry;
  /** Groups and memberships (create, set scopes, add a client, ...), as the CLI uses them. */
  readonly groups: GroupRegistry;
  /** Audit events: `oauth.events.on('audit', (event) => ...)`. */
  readonly events: AuditEmitter;
  /** The token endpoint, its companion endpoints and the RFC 8414 metadata, as a router to `app.use()` at the host's root (it puts the routes under the issuer's path itself). */
  tokenRouter(): Router;
  /**
   * The admin API (JSON REST over clients and groups, OpenAPI at `GET /openapi.json`), guarded by
   * `requireScope('oauth:admin')` unless `options.scope` names another scope.
   */
  adminRouter(options?: AdminRouterOptions): Router;
  /** Guards that verify this instance's tokens in memory. */
  readonly requireScope: RequireScope;
  /**
   * Resolves once the store is open (a PostgreSQL store connects and migrates in the background) and
   * the signing keys are loaded; rejects with the reason it cannot serve: an unreachable database, a
   * schema newer than this library, a missing or wrong `keySecret` for encrypted keys. Requests wait
   * for the store by themselves: `await oauth.ready()` before `app.listen()` only to fail fast.
   */
  ready(): Promise<void>;
  /**
   * Serves this resource's RFC 9728 metadata (default resource: the instance's `audience`) at
   * `/.well-known/oauth-protected-resource<path>`; from then on, guards accepting it name the URL in
   * their challenges (`resource_metadata`, §5.1). Mount at the origin's root.
   */
  resourceMetadataRouter(options?: ResourceMetadataOptions): Router;
  /** Liveness (`/healthz`) and readiness (`/readyz`: the store answers `ping()` and a signing key is loaded; 503 otherwise). */
  healthRouter(options?: HealthRouterOptions): Router;
  /** Stops background work and closes the database this instance opened. */
  close(): Promise<void>;
}

/**
 * Binds a guard's resolved options to a local authorization server; verification stays in memory.
 * Guards that verify alike share one cache, so a token verified on one route is known on the others.
 */
export function localGuardRuntime(server: AuthorizationServer): (settings: GuardSettings, scopes?: readonly string[]) => GuardRuntime {
  const caches = new Map<string, CachingTokenVerifier>();
  const resources = protectedResourcesOf(server);
  // Proof jtis go to the store, shared with every instance on it (RFC 9449 §11.1); nonces stay a token endpoint matter.
  const proofChecker = (withNonces: boolean) =>
    new DpopChecker({
      proofMaxAge: server.options.dpop.proofMaxAge,
      clockTolerance: server.options.clockTolerance,
      clock: server.options.clock,
      claims: server.replayClaims,
      namespace: 'dpop:resource',
      // RFC 9449 §9: the instance's nonce secrets, for the guards that ask for nonces (dpopNonce).
      ...(withNonces ? { nonceSecrets: server.options.dpop.nonceSecrets, nonceStep: server.options.dpop.nonceStep } : {}),
    });
  const resourceDpop = proofChecker(false);
  let nonceDpop: DpopChecker | undefined;
  return (settings, scopes = []) => {
    const resolved = bindGuardOptions(settings, server.options);
    if (resolved.dpopNonce && server.options.dpop.nonceSecrets === undefined) {
      throw new TypeError('a guard with dpopNonce needs the instance\'s dpop.nonceSecrets');
    }
    const metrics = metricsOf(server);
    resources.declare({ audiences: resolved.audience, scopes, allowBodyToken: resolved.allowBodyToken });
    const cacheKey = JSON.stringify([resolved.audience, resolved.acceptScp, resolved.tokenCacheSize]);
    let cache = caches.get(cacheKey);
    if (!cache) {
      const inner: BoundTokenVerifier = {
        verify: (token) => server.readToken(token, resolved.audience, resolved.acceptScp),
        // A cached token counts only while its signing key is trusted (a retired key verifies nothing).
        verifyBound: (token) => server.readTokenBound(token, resolved.audience, resolved.acceptScp),
      };
      const created = new CachingTokenVerifier(
        inner,
        {
          maxEntries: resolved.tokenCacheSize,
          clock: server.options.clock,
          ...(metrics?.live ? { onLookup: (hit: boolean) => metrics.cacheLookup('verified_token', hit) } : {}),
        },
      );
      // Cached verifications depend on the keys only; revocation is checked after the cache, live.
      server.changes.subscribe((change) => {
        if (change.kind === 'keys' || change.kind === 'all') created.clear();
      });
      caches.set(cacheKey, created);
      cache = created;
    }
    const verified = cache;
    const runtime: GuardRuntime = {
      // The cache spares the signature check; revocation (in memory) is still checked on every request.
      verifier: {
        verify: async (token) => server.assertNotRevoked(await verified.verify(token)),
        verifyCached: (token) => {
          const hit = verified.verifyCached(token);
          return hit && server.notRevokedNow(hit);
        },
      },
      realm: resolved.realm,
      allowBodyToken: resolved.allowBodyToken,
      logger: server.options.logger,
      dpop: { mode: resolved.dpop, publicBaseUrl: resolved.publicBaseUrl, checker: resolved.dpopNonce ? (nonceDpop ??= proofChecker(true)) : resourceDpop },
      resourceMetadata: () => resources.metadataUrlFor(resolved.audience),
      ...(metrics?.live ? { onDecision: (decision) => metrics.guardDecision(decision) } : {}),
    };
    return runtime;
  };
}

/** A guard binder for a local server: each guard's options resolved once, when it is created. */
export function localGuardBinder(server: AuthorizationServer): (options: GuardOptions, scopes?: readonly string[]) => () => GuardRuntime {
  const runtimeFor = localGuardRuntime(server);
  return (options, scopes) => {
    const runtime = runtimeFor(resolveGuardOptions(options, server.options.issuer), scopes);
    return () => runtime;
  };
}

/**
 * Creates an instance with its configuration in one place. Opens `database` (default
 * `./oauth.sqlite`; a `postgres://` URL opens PostgreSQL) unless a `store` is given. Throws
 * `TypeError` on a bad option.
 *
 * @example
 * const oauth = createOAuth({ issuer: 'https://auth.example.com', database: './oauth.sqlite' });
 * app.use(oauth.tokenRouter());
 * app.get('/api/items', oauth.requireScope('read'), handler);
 */
export function createOAuth(options: OAuthOptions = {}): OAuth {
  // NODE_ENV (production turns requireTls on) comes from lib/env.ts, the one module reading process.env.
  const resolved = resolveOptions(options, optionEnvironment());
  const { logger } = resolved;
  const store =
    resolved.store ??
    openStore(resolved.database, {
      busyTimeout: resolved.busyTimeout,
      onWarning: (message) => logger.warn(message),
      postgres: { now: resolved.clock, onError: (err) => logger.error('the PostgreSQL store\'s background work failed', err) },
    });
  // A networked store opens lazily; start now so a schema newer than this library is reported at start-up.
  store.ready?.().catch((err: unknown) => logger.error('the store could not be opened', err));
  const server = new AuthorizationServer(resolved, store);
  const metrics = instrumentServer(server, resolved.metrics);
  const requireScope = createRequireScope(localGuardBinder(server));
  return {
    server,
    registry: server.registry,
    groups: server.groups,
    events: server.events,
    tokenRouter: () =>
      // No provider, no per-request listener: a no-op meter's counts go nowhere (see OAuthMetrics.live).
      createTokenRouter(server, metrics.live ? endpointMetrics(metrics, resolved.tokenPath, [INTROSPECTION_PATH, REVOCATION_PATH]) : undefined),
    adminRouter: (adminOptions) => {
      const resolvedAdmin = resolveAdminRouterOptions(adminOptions);
      return createAdminRouter(server, requireScope(resolvedAdmin.scope, resolvedAdmin.guard), resolvedAdmin);
    },
    requireScope,
    ready: async () => {
      await store.ready?.();
      await server.ready();
    },
    resourceMetadataRouter: (metadataOptions) =>
      createResourceMetadataRouter(
        protectedResourcesOf(server),
        resolveResourceMetadataOptions(metadataOptions, { resource: resolved.audience, authorizationServers: [resolved.issuer] }),
      ),
    healthRouter: (healthOptions) =>
      createHealthRouter(
        [
          { name: 'store', check: () => store.ping() },
          // getSigner loads the active key (creating the first one on a fresh database), as the first token would.
          { name: 'signing_key', check: () => server.keys.getSigner() },
        ],
        resolveHealthRouterOptions(healthOptions),
        resolved.logger,
      ),
    close: () => server.close(),
  };
}
