// Public API of express-client-credentials: named exports only.
export { tokenRouter, requireScope, defaultOAuth, closeDefaultOAuth } from './default-instance';
export { createOAuth } from './oauth';
export type { OAuth } from './oauth';
export { oauthErrorHandler } from './express/render';
export type { AuthInfo, RequireScope, TokenVerifier } from './express/require-scope';
export { DEFAULTS } from './options';
export type { OAuthOptions, GuardOptions, Logger } from './options';
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
  ServerError,
} from './errors';
export type { OAuthErrorCode } from './errors';
export { AuthorizationServer } from './core/authorization-server';
export { AuditEmitter } from './core/events';
export type { AuditEvents, AuditEvent, AuditEventName } from './core/events';
export { ClientRegistry, RegistryError } from './core/registry';
export type { ClientInput, ClientWithSecret } from './core/registry';
export type { Client, ClientSecret, TokenFormat } from './core/client';
export type { AccessTokenClaims, VerifiedAccessToken } from './core/tokens';
export type { TokenResponse } from './core/grant';
export type { SigningAlgorithm, PublicJwk } from './core/keys';
export { SqliteStore, openSqliteDatabase } from './store/sqlite';
export { StoreError } from './store/types';
export type { Store, ClientStore, KeyStore, ChangeFeed, NewClient, ClientChanges, SecretRotation } from './store/types';
export { CachingTokenVerifier } from './core/token-cache';
