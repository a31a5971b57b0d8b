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
  /**
   * The private key as stored: PKCS#8 PEM, or that PEM sealed by lib/core/tokens/key-encryption.ts
   * (`ecc-kek1.` prefix) when a key secret is configured; the key ring seals and opens it, a store
   * keeps it as an opaque string. Null once the key stopped signing (only its public half is kept).
   */
  privateKeyPem: string | null;
  publicJwk: PublicJwk;
  createdAt: number;
  /** Whether this is the key new tokens are signed with (exactly one is). */
  active: boolean;
  /** When the public key may stop being published (every token it signed has expired); null while in use. */
  retireAt: number | null;
  /**
   * A key published ahead of use (the `next` key: not active, `retireAt` null): when it starts
   * signing. On the active key, when it started signing (null or absent: at `createdAt`).
   * Absent on keys a store without scheduled publication returns.
   */
  activateAt?: number | null;
}

/**
 * Where a stored key is in its life: `next` (published, not signing yet), `active` (signing),
 * `retiring` (published until `retireAt` so the tokens it signed still verify; private half deleted).
 */
export type SigningKeyState = 'next' | 'active' | 'retiring';

/** The state of a key {@link KeyStore.listSigningKeys} returned (so not yet gone). */
export function signingKeyState(key: Pick<StoredSigningKey, 'active' | 'retireAt'>): SigningKeyState {
  if (key.active) return 'active';
  return key.retireAt === null ? 'next' : 'retiring';
}
