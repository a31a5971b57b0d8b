// The zero-config default instance behind the bare tokenRouter() / requireScope(), configured from the environment through lib/env.ts.
import type { Router } from 'express';
import { createRequireScope, type GuardRuntime, type RequireScope } from './express/require-scope';
import { consoleLogger } from './core/model/logger';
import { defaultInstanceOptionsFromEnv } from './env';
import { createOAuth, localGuardRuntime, type OAuth } from './oauth';
import {
  isRemoteGuard,
  resolveGuardOptions,
  resolveResourceServerOptions,
  type AdminRouterOptions,
  type GuardOptions,
  type OAuthOptions,
} from './options';
import type { RemoteIssuer } from './core/verification/remote-issuer';
import { remoteGuardRuntime, remoteIssuerFor } from './resource-server';
import { parseKeySecrets } from './core/tokens/key-encryption';
import { OAuthMetrics, resolveMetricsOptions } from './core/observability/metrics';

let instance: OAuth | undefined;
let instanceOptions: OAuthOptions | undefined;
/** Remote issuers named by `requireScope(..., { issuer })`, one per issuer so guards share their keys. */
const remoteIssuers = new Map<string, RemoteIssuer>();
/** Metrics of the default remote guards, from the global provider, made on the first such guard. */
let remoteGuardMetrics: OAuthMetrics | undefined;

/**
 * The process-wide default instance, created on first use from `OAUTH_DB`, `OAUTH_ISSUER` and `OAUTH_KEY_SECRET`
 * (explicit options win over the environment).
 */
export function defaultOAuth(options?: OAuthOptions): OAuth {
  if (instance) {
    if (options !== undefined && options !== instanceOptions) {
      throw new TypeError('the default instance is already configured; use createOAuth() for a second configuration');
    }
    return instance;
  }
  const env = defaultInstanceOptionsFromEnv();
  // An option given as `undefined` is not given: it must not hide the environment's value.
  const explicit = Object.fromEntries(Object.entries(options ?? {}).filter(([, value]) => value !== undefined));
  instance = createOAuth({ ...env, ...explicit });
  instanceOptions = options;
  return instance;
}

/**
 * Closes and forgets the default instance (for tests and graceful shutdown). Middlewares made from
 * it stay bound to the closed instance: build the app again after a new default instance is created.
 */
export async function closeDefaultOAuth(): Promise<void> {
  const closing = instance;
  instance = undefined;
  instanceOptions = undefined;
  for (const issuer of remoteIssuers.values()) issuer.close();
  remoteIssuers.clear();
  await closing?.close();
}

/**
 * The token endpoint of the default instance: `POST /oauth/token` (RFC 6749 §4.4).
 *
 * @example
 * app.use(tokenRouter()); // issuer from OAUTH_ISSUER, database from OAUTH_DB (default ./oauth.sqlite)
 */
export function tokenRouter(options?: OAuthOptions): Router {
  return defaultOAuth(options).tokenRouter();
}

/**
 * The admin API of the default instance (clients and groups as JSON, OpenAPI at `GET /openapi.json`),
 * guarded by `requireScope('oauth:admin')` by default.
 *
 * @example
 * app.use(tokenRouter());
 * app.use('/admin', adminRouter()); // an operator's tool is a client with the oauth:admin scope
 */
export function adminRouter(options?: AdminRouterOptions): Router {
  return defaultOAuth().adminRouter(options);
}

/**
 * Guards a route with the default instance: the bearer token must carry every named scope.
 * `requireScope.any(...)` needs one of them. Options may follow the scopes.
 *
 * @example
 * app.get('/api/items', requireScope('read'), handler);
 * app.post('/api/items', requireScope('write'), handler);
 * app.delete('/api/items/:id', requireScope.any('admin', 'delete'), handler);
 * // In a service without a database, checking the tokens of an issuer in another process:
 * app.get('/orders', requireScope('read', { issuer: 'https://auth.internal', audience: 'orders' }), handler);
 */
export const requireScope: RequireScope = createRequireScope((options: GuardOptions, scopes) => {
  if (isRemoteGuard(options)) {
    const resolved = resolveResourceServerOptions(options as Parameters<typeof resolveResourceServerOptions>[0]);
    let issuer = remoteIssuers.get(resolved.issuer);
    if (!issuer) remoteIssuers.set(resolved.issuer, (issuer = remoteIssuerFor(resolved)));
    const runtime = remoteGuardRuntime(issuer, resolved, { metrics: (remoteGuardMetrics ??= new OAuthMetrics(resolveMetricsOptions(undefined))) });
    return () => runtime;
  }
  // Resolved once, when the route is defined; the instance (and so the audience and realm these
  // options may leave to it) is only known on the first request.
  const settings = resolveGuardOptions(options);
  let runtime: GuardRuntime | undefined;
  return () => {
    try {
      // The default instance exists only from the first use, so its guards declare their scopes then.
      return (runtime ??= localGuardRuntime(defaultOAuth().server)(settings, scopes));
    } catch (err) {
      // The request becomes a bare server_error; without an instance there is no configured logger,
      // so the default one says why (a bad OAUTH_ISSUER, an unopenable OAUTH_DB).
      consoleLogger.error('the default instance could not be created', err);
      throw err;
    }
  };
});
