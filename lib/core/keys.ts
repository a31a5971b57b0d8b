// Signing keys: generation (RS256 / ES256), RFC 7638 key ids, and loading stored keys once into KeyObjects.
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

const generateKeyPairAsync = promisify(generateKeyPair);

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

/** A key parsed once into KeyObjects: never re-parsed from PEM per request. */
export interface LoadedKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: KeyObject | undefined;
  publicKey: KeyObject;
  jwk: PublicJwk;
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) over the required members in lexicographic order. */
export function jwkThumbprint(jwk: Pick<PublicJwk, 'kty' | 'n' | 'e' | 'crv' | 'x' | 'y'>): string {
  const members =
    jwk.kty === 'RSA' ? { e: jwk.e, kty: jwk.kty, n: jwk.n } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** Generates a new key pair off the event loop; its kid is its RFC 7638 thumbprint. */
export async function generateSigningKey(alg: SigningAlgorithm, now: number): Promise<StoredSigningKey> {
  const { privateKey, publicKey } =
    alg === 'RS256'
      ? await generateKeyPairAsync('rsa', { modulusLength: 2048, publicExponent: 0x10001 })
      : await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
  const raw = publicKey.export({ format: 'jwk' });
  const base =
    alg === 'RS256'
      ? { kty: 'RSA' as const, n: raw.n, e: raw.e }
      : { kty: 'EC' as const, crv: raw.crv, x: raw.x, y: raw.y };
  const kid = jwkThumbprint(base);
  return {
    kid,
    alg,
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicJwk: { ...base, kid, alg, use: 'sig' },
    createdAt: now,
    active: true,
    retireAt: null,
  };
}

/** Parses a stored key into KeyObjects (done once per key, when the key ring loads it). */
export function loadKey(stored: StoredSigningKey): LoadedKey {
  const privateKey = createPrivateKey(stored.privateKeyPem);
  return {
    kid: stored.kid,
    alg: stored.alg,
    privateKey,
    publicKey: createPublicKey(privateKey),
    jwk: stored.publicJwk,
  };
}
