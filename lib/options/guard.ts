// The guard family: GuardOptions of one requireScope() of an instance, resolved once when the guard is created.
import { GUARD_OPTIONS } from './defaults';
import { optionsObject, resolveTable, type OptionsOf } from './validate';
import { normalizeScopes } from '../core/model/scope';

/**
 * Options of one `requireScope()` guard. A guard that names another `issuer` (or `introspection`)
 * is a remote guard and takes the resource server options (see `createResourceServer()`).
 */
export type GuardOptions = OptionsOf<typeof GUARD_OPTIONS>;

/** A local guard's own options, resolved; `audience` and `realm` stay undefined when they follow the instance's. */
export interface GuardSettings {
  audience: readonly string[] | undefined;
  allowBodyToken: boolean;
  acceptScp: boolean;
  realm: string | undefined;
  tokenCacheSize: number;
  /** RFC 9449 §7: whether bearer tokens still pass. */
  dpop: 'allowed' | 'required';
  /** RFC 9449 §9: whether DPoP proofs must carry a current server nonce. */
  dpopNonce: boolean;
  /** The service's public URL prefix, for a DPoP proof's `htu`. */
  publicBaseUrl: string | undefined;
}

/** What a local guard runs on, once bound to its instance. */
export interface ResolvedGuardOptions extends GuardSettings {
  audience: readonly string[];
  realm: string;
}

/** Whether guard options name another issuer, which makes the guard a remote one. */
export function isRemoteGuard(options: GuardOptions, instanceIssuer?: string): boolean {
  return (options.issuer !== undefined && options.issuer !== instanceIssuer) || options.introspection !== undefined;
}

/**
 * Resolves a local guard's options when the route is defined; throws `TypeError` on misuse. The
 * instance-dependent defaults (`audience`, `realm`) are filled in by {@link bindGuardOptions}.
 */
export function resolveGuardOptions(options: GuardOptions, instanceIssuer?: string): GuardSettings {
  optionsObject(options, 'guard options');
  if (isRemoteGuard(options, instanceIssuer)) {
    throw new TypeError('this guard verifies its own instance\'s tokens; for another issuer use createResourceServer()');
  }
  const { issuer: _issuer, introspection: _introspection, ...settings } = resolveTable(GUARD_OPTIONS, options);
  return settings;
}

/** Fills a guard's instance-dependent defaults from its instance's resolved options. */
export function bindGuardOptions(settings: GuardSettings, instance: { audience: string; realm: string }): ResolvedGuardOptions {
  return { ...settings, audience: settings.audience ?? [instance.audience], realm: settings.realm ?? instance.realm };
}

/** Validates the scopes a guard requires; throws `TypeError` when the route is defined, not on a request. */
export function resolveRequiredScopes(scopes: readonly unknown[]): string[] {
  if (scopes.length === 0) throw new TypeError('requireScope() needs at least one scope');
  if (scopes.some((s) => typeof s !== 'string')) throw new TypeError('requireScope() scopes must be strings');
  return normalizeScopes(scopes as string[], 'requireScope()');
}
