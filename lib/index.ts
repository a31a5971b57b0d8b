// Public API of express-client-credentials: named exports only.
export { tokenRouter, requireScope, defaultOAuth, closeDefaultOAuth } from './default-instance';
export { adminRouter } from './default-instance';
export { createOAuth } from './oauth';
export { createResourceServer } from './resource-server';
export type { ResourceServer } from './resource-server';
export type { ResourceServerOptions, IntrospectionClientOptions } from './options';
export type { IntrospectionResponse } from './core/introspection';
export { RemoteIssuer } from './core/remote-issuer';
export { JwksVerifier, IntrospectionVerifier } from './core/remote-verifiers';
export type { OAuth } from './oauth';
export { oauthErrorHandler } from './express/render';
export type { AuthInfo, RequireScope, TokenVerifier } from './express/require-scope';
export { DEFAULTS } from './options';
export type { OAuthOptions, GuardOptions, Logger } from './options';
export type { AdminRouterOptions } from './options';
export type { ClientView, GroupView, SecretView } from './core/admin-views';
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
} from './errors';
export type { OAuthErrorCode } from './errors';
export { AuthorizationServer } from './core/authorization-server';
export { AuditEmitter } from './core/events';
export type { AuditEvents, AuditEvent, AuditEventName } from './core/events';
export { jsonLinesAuditLogger } from './audit-log';
export { limitOptionsFromEnv, LIMIT_ENV } from './env-options';
export type { LineSink } from './audit-log';
export { ClientRegistry, RegistryError } from './core/registry';
export type { ClientInput, ClientWithSecret } from './core/registry';
export { GroupRegistry } from './core/group-registry';
export type { GroupInput, GroupUpdate } from './core/group-registry';
export type { Group } from './core/group';
export type { Client, ClientSecret, TokenFormat } from './core/client';
export type { AccessTokenClaims, VerifiedAccessToken } from './core/tokens';
export type { TokenResponse } from './core/grant';
export type { SigningAlgorithm, PublicJwk } from './core/keys';
export { SqliteStore, openSqliteDatabase } from './store/sqlite';
export { StoreError } from './store/types';
export type { Store, ClientStore, KeyStore, ChangeFeed, NewClient, ClientChanges, SecretRotation } from './store/types';
export { CachingTokenVerifier } from './core/token-cache';
export type { GroupStore, NewGroup, GroupChanges } from './store/types';
