// The client authentication methods the token client supports, by their RFC 8414 / RFC 7591 names; apart from client-auth.ts so the public declarations never import oauth4webapi (an ES module a CommonJS consumer's type check cannot require).

/** The methods the token client supports. */
export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];
