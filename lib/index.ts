// Public API of express-client-credentials: named exports only.
export { tokenRouter, requireScope, defaultOAuth, closeDefaultOAuth } from './default-instance';
export { adminRouter } from './default-instance';
export { createOAuth } from './oauth';
export { createResourceServer } from './resource-server';
export type { ResourceServer } from './resource-server';
export type { ResourceServerOptions, IntrospectionClientOptions } from './options';
export type { IntrospectionResponse } from './core/issuing/introspection';
export { RemoteIssuer } from './core/verification/remote-issuer';
export { JwksVerifier, IntrospectionVerifier } from './core/verification/remote-verifiers';
export type { OAuth } from './oauth';
export { oauthErrorHandler } from './express/render';
export type { AuthInfo, RequireScope, TokenVerifier } from './express/require-scope';
export { DEFAULTS } from './options';
export type { OAuthOptions, GuardOptions, Logger } from './options';
export type { AdminRouterOptions } from './options';
export type { ClientView, GroupView, SecretView } from './core/admin/admin-views';
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
} from './core/model/errors';
export type { OAuthErrorCode } from './core/model/errors';
export { AuthorizationServer } from './core/issuing/authorization-server';
export { AuditEmitter } from './core/model/events';
export type { AuditEvents, AuditEvent, AuditEventName } from './core/model/events';
export { jsonLinesAuditLogger } from './audit-log';
export { limitOptionsFromEnv, LIMIT_ENV } from './env-options';
export { KeyEncryptionError, parseKeySecrets } from './core/tokens/key-encryption';
export type { LineSink } from './audit-log';
export { ClientRegistry, RegistryError } from './core/admin/registry';
export type { ClientInput, ClientWithSecret } from './core/admin/registry';
export { GroupRegistry } from './core/admin/group-registry';
export type { GroupInput, GroupUpdate } from './core/admin/group-registry';
export type { Group } from './core/model/group';
export type { Client, ClientSecret, TokenFormat } from './core/model/client';
export type { AccessTokenClaims, VerifiedAccessToken } from './core/tokens/jwt';
export type { TokenResponse } from './core/issuing/grant';
export type { SigningAlgorithm, PublicJwk } from './core/tokens/keys';
export { SqliteStore, openSqliteDatabase } from './store/sqlite';
export { StoreError } from './store/types';
export type { Store, ClientStore, KeyStore, ChangeFeed, NewClient, ClientChanges, SecretRotation } from './store/types';
export { CachingTokenVerifier } from './core/verification/token-cache';
export type { GroupStore, NewGroup, GroupChanges } from './store/types';
export { fetchProtectedResourceMetadata, readProtectedResourceMetadata, resourceMetadataFromChallenge, ProtectedResourceMetadataError } from './core/verification/resource-metadata';
export type { ProtectedResourceMetadata, FetchProtectedResourceMetadataOptions } from './core/verification/resource-metadata';
export { protectedResourceMetadataUrl } from './core/verification/protected-resource';
export type { ResourceMetadataOptions, HealthRouterOptions, MetricsOptions } from './operations-options';
export { METRIC_NAMES } from './core/observability/metrics';
export { pinoAuditLogger } from './core/observability/logger';
