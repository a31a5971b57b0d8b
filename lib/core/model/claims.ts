// The claims of an access token (RFC 9068 §2.2) and what a verified token tells its guard.

/** The claims of an access token this library issues (RFC 9068 §2.2). Times in seconds. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  client_id: string;
  aud: string | string[];
  /** Space-delimited granted scopes. */
  scope: string;
  iat: number;
  exp: number;
  jti: string;
  [claim: string]: unknown;
}

/** A token that passed verification: who it is for and what it grants. */
export interface VerifiedAccessToken {
  clientId: string;
  scopes: string[];
  claims: AccessTokenClaims;
}
