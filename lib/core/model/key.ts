// Signing keys as data: the algorithms we sign with, a published public JWK, and a key as the store keeps it.

/** JWS algorithms this library signs with. RS256 is the one every RFC 9068 resource server must accept. */
export type SigningAlgorithm = 'RS256' | 'ES256';
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['RS256', 'ES256'];

/** A public key as published in the JWKS (RFC 7517). */
export interface PublicJwk {
  kty: 'RSA' | 'EC';
  kid: string;
  alg: SigningAlgorithm;
  use: 'sig';
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
}

/** A signing key as the store keeps it. Times are epoch milliseconds. */
export interface StoredSigningKey {
  kid: string;
  alg: SigningAlgorithm;
  /** PKCS#8 PEM of the private key. */
  privateKeyPem: string;
  publicJwk: PublicJwk;
  createdAt: number;
  /** Whether this is the key new tokens are signed with (exactly one is). */
  active: boolean;
  /** When the public key may stop being published (every token it signed has expired); null while in use. */
  retireAt: number | null;
}
