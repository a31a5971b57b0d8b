// The resource server family: options of createResourceServer() and of remote guards, each guard resolved once over its server's.
import { consoleLogger } from '../core/model/logger';
import { resolveMetricsOptions } from '../core/observability/metrics';
import { RESOURCE_SERVER_OPTIONS, type IntrospectionInput } from './defaults';
import { optionsObject, resolveTable, type OptionsOf, type ResolvedOf } from './validate';
import type { GuardOptions } from './guard';
import { resolveDpopOptions } from './possession';

/** Options of {@link createResourceServer}: a service that checks another process's tokens, with no database. */
export type ResourceServerOptions = OptionsOf<typeof RESOURCE_SERVER_OPTIONS>;

/** How a remote guard authenticates to the issuer's introspection endpoint, and how long it caches answers. */
export type IntrospectionClientOptions = IntrospectionInput;

/** Resolved resource server (or remote guard) options; names and units as in {@link ResourceServerOptions}. */
export type ResolvedResourceServerOptions = ResolvedOf<typeof RESOURCE_SERVER_OPTIONS>;

/** Resolves resource server options (or a remote guard's of the default instance); throws `TypeError` on misuse. */
export function resolveResourceServerOptions(options: ResourceServerOptions): ResolvedResourceServerOptions {
  optionsObject(options, 'options');
  if ((options as Partial<ResourceServerOptions>).audience === undefined) {
    throw new TypeError('a guard for a remote issuer needs its audience (RFC 9068 §4: aud must be checked)');
  }
  return withNonceSecrets(
    resolveTable(RESOURCE_SERVER_OPTIONS, options, '', {
      clock: () => Date.now,
      logger: () => consoleLogger,
      metrics: () => resolveMetricsOptions(undefined),
      dpopProof: () => {
        const { proofMaxAge, replayCacheSize, nonceSecrets, nonceStep } = resolveDpopOptions();
        return { proofMaxAge, replayCacheSize, nonceSecrets, nonceStep };
      },
    }),
  );
}

/** RFC 9449 §9: a guard asking for DPoP nonces needs the secrets that make them. */
function withNonceSecrets(resolved: ResolvedResourceServerOptions): ResolvedResourceServerOptions {
  if (resolved.dpopNonce && resolved.dpopProof.nonceSecrets === undefined) {
    throw new TypeError('a guard with dpopNonce needs dpopProof.nonceSecrets');
  }
  return resolved;
}

/**
 * Resolves one guard of a resource server once, when it is created: its own options are checked,
 * the rest is its server's (already resolved). A guard cannot name another issuer.
 */
export function resolveRemoteGuardOptions(guard: GuardOptions, server: ResolvedResourceServerOptions): ResolvedResourceServerOptions {
  optionsObject(guard, 'guard options');
  if (guard.issuer !== undefined && guard.issuer !== server.issuer) {
    throw new TypeError('a resource server guard cannot name another issuer');
  }
  const inherited = Object.fromEntries(Object.keys(RESOURCE_SERVER_OPTIONS).map((name) => [name, () => server[name as keyof typeof server]]));
  return withNonceSecrets(resolveTable(RESOURCE_SERVER_OPTIONS, { ...guard, issuer: undefined }, '', inherited));
}
