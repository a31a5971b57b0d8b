// Public API of express-client-credentials/client: the calling side (a token client), free of Express and of the server code.
export { createTokenClient, TokenClient } from './token-client';
export type { AccessToken, TokenParams, TokenClientFetchInit } from './token-client';
export { CLIENT_DEFAULTS } from './options';
export type { TokenClientOptions } from './options';
export { CLIENT_AUTH_METHODS } from './auth-methods';
export type { ClientAuthMethod, PrivateKeyInput, AssertionSigningAlgorithm } from './auth-methods';
export { TokenClientError } from './errors';
export { TokenClientEmitter } from './events';
export type { TokenClientEvents, TokenClientEvent, TokenClientEventName } from './events';
export { relay } from './relay';
export type { RelayTarget } from './relay';
