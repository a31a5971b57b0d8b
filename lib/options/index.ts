// Every option family in one folder: the table (defaults.ts), the checks (validate.ts), and one resolver per family.
export { DEFAULTS, DEVELOPMENT_ISSUER, OPTION_FAMILIES, type Defaults } from './defaults';
export { validateIssuer } from './validate';
export type { Logger } from '../core/model/logger';
export { resolveOptions, type OAuthOptions, type OptionEnvironment, type ResolvedOptions } from './instance';
export {
  bindGuardOptions,
  isRemoteGuard,
  resolveGuardOptions,
  resolveRequiredScopes,
  type GuardOptions,
  type GuardSettings,
  type ResolvedGuardOptions,
} from './guard';
export {
  resolveRemoteGuardOptions,
  resolveResourceServerOptions,
  type IntrospectionClientOptions,
  type ResolvedResourceServerOptions,
  type ResourceServerOptions,
} from './resource-server';
export {
  resolveHealthRouterOptions,
  resolveResourceMetadataOptions,
  type HealthRouterOptions,
  type MetricsOptions,
  type ResolvedHealthRouterOptions,
  type ResourceMetadataOptions,
} from './operations';
export { resolveAdminRouterOptions, type AdminRouterOptions, type ResolvedAdminRouterOptions } from './admin';
export type { ClientAssertionOptions, DpopOptions } from './possession';
