// createOAuth(): one explicit instance (store, keys, options) that hands out its token router and its guards.
import type { Router } from 'express';
import { AuthorizationServer } from './core/authorization-server';
import type { AuditEmitter } from './core/events';
import type { ClientRegistry } from './core/registry';
import { CachingTokenVerifier } from './core/token-cache';
import { createRequireScope, type GuardRuntime, type RequireScope } from './express/require-scope';
import { createTokenRouter } from './express/token-router';
import { resolveGuardOptions, resolveOptions, type GuardOptions, type OAuthOptions } from './options';
import { SqliteStore } from './store/sqlite';

/** An authorization server and the middlewares bound to it. */
export interface OAuth {
  /** The framework-free core: client authentication, grant, signing, verification. */
  readonly server: AuthorizationServer;
  /** Client administration (create, rotate, disable, ...), as the CLI uses it. */
  readonly registry: ClientRegistry;
  /** Audit events: `oauth.events.on('audit', (event) => ...)`. */
  readonly events: AuditEmitter;
  /** The token endpoint (and, later, its companion endpoints) as a router to `app.use()`. */
  tokenRouter(): Router;
  /** Guards that verify this instance's tokens in memory. */
  readonly requireScope: RequireScope;
  /** Stops background work and closes the database this instance opened. */
  close(): Promise<void>;
}

/** Binds a guard's options to a local authorization server: options checked now, verification in memory. */
export function localGuardBinder(server: AuthorizationServer): (options: GuardOptions) => () => GuardRuntime {
  // Guards that verify alike share one cache, so a token verified on one route is known on the others.
  const caches = new Map<string, CachingTokenVerifier>();
  return (options) => {
    const resolved = resolveGuardOptions(options, server.options);
    const cacheKey = JSON.stringify([resolved.audience, resolved.acceptScp, resolved.tokenCacheSize]);
    let verifier = caches.get(cacheKey);
    if (!verifier) {
      const cache = new CachingTokenVerifier(
        { verify: (token) => server.verifyAccessToken(token, resolved) },
        { maxEntries: resolved.tokenCacheSize, now: server.options.clock },
      );
      server.changes.subscribe(() => cache.clear());
      caches.set(cacheKey, cache);
      verifier = cache;
    }
    const runtime: GuardRuntime = {
      verifier,
      realm: resolved.realm,
      allowBodyToken: resolved.allowBodyToken,
      logger: server.options.logger,
    };
    return () => runtime;
  };
}

/**
 * Creates an instance with its configuration in one place. Opens the SQLite file `database`
 * (default `./oauth.sqlite`) unless a `store` is given. Throws `TypeError` on a bad option.
 *
 * @example
 * const oauth = createOAuth({ issuer: 'https://auth.example.com', database: './oauth.sqlite' });
 * app.use(oauth.tokenRouter());
 * app.get('/api/items', oauth.requireScope('read'), handler);
 */
export function createOAuth(options: OAuthOptions = {}): OAuth {
  const resolved = resolveOptions(options);
  const store = resolved.store ?? SqliteStore.open(resolved.database);
  const server = new AuthorizationServer(resolved, store);
  return {
    server,
    registry: server.registry,
    events: server.events,
    tokenRouter: () => createTokenRouter(server),
    requireScope: createRequireScope(localGuardBinder(server)),
    close: () => server.close(),
  };
}
