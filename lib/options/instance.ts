// The instance family: OAuthOptions of createOAuth() / tokenRouter() / defaultOAuth(), resolved once into the core's ServerConfig.
import { consoleLogger } from '../core/model/logger';
import { resolveMetricsOptions, type ResolvedMetricsOptions } from '../core/observability/metrics';
import type { ServerConfig } from '../core/issuing/config';
import type { Store } from '../store/types';
import { DEVELOPMENT_ISSUER, INSTANCE_OPTIONS } from './defaults';
import { optionsObject, resolveTable, type OptionsOf, type ResolvedOf } from './validate';
import { POSSESSION_INSTANCE_DEFAULTS } from './possession';

/**
 * Options of {@link createOAuth} (and of the zero-config default instance). Each option's default
 * and meaning are in `INSTANCE_OPTIONS` (lib/options/defaults.ts) and the README's options table.
 */
export type OAuthOptions = OptionsOf<typeof INSTANCE_OPTIONS>;

/** What option resolution may learn from the process environment; only lib/env.ts reads it. */
export interface OptionEnvironment {
  /** `process.env.NODE_ENV`: `production` turns `requireTls` on unless it is set. */
  nodeEnv?: string | undefined;
}

/** Resolved instance options: the core's {@link ServerConfig} plus what only the entry point needs (the store to open). */
export interface ResolvedOptions extends ServerConfig {
  store: Store | undefined;
  database: string;
  busyTimeout: number;
  metrics: ResolvedMetricsOptions;
}

/** Resolves instance options against the table's defaults (and `env` for environment-dependent ones); throws `TypeError` on misuse. */
export function resolveOptions(options: OAuthOptions = {}, env: OptionEnvironment = {}): ResolvedOptions {
  optionsObject(options, 'options');
  const resolved: ResolvedOf<typeof INSTANCE_OPTIONS> = resolveTable(INSTANCE_OPTIONS, options, '', {
    issuer: () => DEVELOPMENT_ISSUER,
    audience: (r) => r.issuer,
    clock: () => Date.now,
    logger: () => consoleLogger,
    metrics: () => resolveMetricsOptions(undefined),
    requireTls: () => env.nodeEnv === 'production',
    ...POSSESSION_INSTANCE_DEFAULTS,
  });
  if (resolved.keyRotationDays !== undefined && resolved.keyPublishAhead >= resolved.keyRotationDays * 86_400) {
    // The next key would be published before the one it replaces started signing.
    throw new TypeError('keyPublishAhead must be shorter than keyRotationDays');
  }
  // `keySecret` resolves to the encryptor made from it: the core gets `keyEncryption`, never the secrets.
  const { keySecret, ...rest } = resolved;
  return {
    ...rest,
    keyEncryption: keySecret,
    issuerIsDefault: options.issuer === undefined,
    bcryptCostExplicit: options.bcryptCost !== undefined,
  };
}
