// Public API of express-client-credentials: what an app uses, named exports only; internals for advanced use are subpath exports (see README "Public API and subpaths").
export { tokenRouter, requireScope, adminRouter, defaultOAuth, closeDefaultOAuth } from './default-instance';
export { createOAuth } from './oauth';
export type { OAuth } from './oauth';
export { createResourceServer } from './resource-server';
export type { ResourceServer } from './resource-server';
export { oauthErrorHandler } from './express/render';
export { withAuth } from './express/require-scope';
export type { AuthInfo, AuthenticatedRequest, RequireScope, TokenVerifier } from './express/require-scope';
export { DEFAULTS } from './options';
export type {
  OAuthOptions,
  GuardOptions,
  AdminRouterOptions,
  ResourceServerOptions,
  IntrospectionClientOptions,
  Logger,
} from './options';
export type { ResourceMetadataOptions, HealthRouterOptions, MetricsOptions } from './options';
export { METRIC_NAMES } from './core/observability/metrics';
export {
  OAuthError,
  InvalidRequestError,
  InvalidClientError,
  UnauthorizedClientError,
  UnsupportedGrantTypeError,
  InvalidScopeError,
  InvalidTargetError,
  InvalidTokenError,
  BearerTokenMissingError,
  InsufficientScopeError,
  UnsupportedTokenTypeError,
  TemporarilyUnavailableError,
  TooManyAttemptsError,
  ServerError,
  InvalidDpopProofError,
  UseDpopNonceError,
} from './core/model/errors';
export type { OAuthErrorCode } from './core/model/errors';
