// The `express-client-credentials/core` subpath: the framework-free authorization server, registries, verifiers and domain types, for advanced use.
export { AuthorizationServer } from './issuing/authorization-server';
export { KeyEncryptionError } from './tokens/key-encryption';
export type { LocalVerifyOptions } from './issuing/authorization-server';
export type { ServerConfig } from './issuing/config';
export type { TokenResponse } from './issuing/grant';
export type { IntrospectionResponse } from './issuing/introspection';
export { ClientRegistry, RegistryError } from './admin/registry';
export type { ClientInput, ClientWithSecret, ClientKeyInput, ClientUpdate, ChangeOptions, ClientListQuery, ClientListPage } from './admin/registry';
export { TokenAdmin } from './admin/token-admin';
export type { ReferenceTokenView } from './admin/token-admin';
export { isResourceIndicator, resourceIndicatorProblem } from './model/resource';
export type { ClientAssertionConfig, DpopConfig } from './issuing/config';
export { DPOP_ALGORITHMS, verifyDpopProof, accessTokenHash, jwkThumbprint } from './dpop/proof';
export type { DpopProofExpectations, VerifiedDpopProof } from './dpop/proof';
export { DpopNonces } from './dpop/nonce';
export { ClientAssertionVerifier, ASSERTION_ALGORITHMS, JWT_BEARER_ASSERTION_TYPE } from './client-auth/private-key-jwt';
export { MemoryClaims, StoreClaims } from './verification/replay-cache';
export type { OneTimeClaims } from './verification/replay-cache';
export { GroupRegistry } from './admin/group-registry';
export type { GroupInput, GroupUpdate } from './admin/group-registry';
export type { ClientView, GroupView, SecretView } from './admin/admin-views';
export { RemoteIssuer } from './verification/remote-issuer';
export type { RemoteIssuerOptions } from './verification/remote-issuer';
export { JwksVerifier, IntrospectionVerifier } from './verification/remote-verifiers';
export { CachingTokenVerifier } from './verification/token-cache';
export { AuditEmitter } from './model/events';
export type { AuditEvents, AuditEvent, AuditEventName, AuditActor, AuditRecorder } from './model/events';
export type { Client, ClientSecret, ClientJwks, TokenFormat } from './model/client';
export type { Group } from './model/group';
export type { Logger } from './model/logger';
export type { AccessTokenClaims, VerifiedAccessToken } from './tokens/jwt';
export type { SigningAlgorithm, PublicJwk } from './tokens/keys';
export {
  fetchProtectedResourceMetadata,
  readProtectedResourceMetadata,
  resourceMetadataFromChallenge,
  ProtectedResourceMetadataError,
} from './verification/resource-metadata';
export type { ProtectedResourceMetadata, FetchProtectedResourceMetadataOptions } from './verification/resource-metadata';
export { protectedResourceMetadataUrl } from './verification/protected-resource';
