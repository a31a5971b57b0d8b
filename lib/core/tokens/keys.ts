// Signing keys: generation (RS256 / ES256), RFC 7638 key ids, and loading stored keys once into KeyObjects.
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

const generateKeyPairAsync = promisify(generateKeyPair);

export { SIGNING_ALGORITHMS, type SigningAlgorithm, type PublicJwk, type StoredSigningKey } from '../model/key';
import type { PublicJwk, SigningAlgorithm, StoredSigningKey } from '../model/key';

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

/**
 * Parses a stored key into KeyObjects (done once per key, when the key ring loads it). `privateKeyPem`
 * must be clear PEM here (the key ring opens a sealed one first); a key without one verifies only.
 */
export function loadKey(stored: StoredSigningKey): LoadedKey {
  const privateKey = stored.privateKeyPem === null ? undefined : createPrivateKey(stored.privateKeyPem);
  return {
    kid: stored.kid,
    alg: stored.alg,
    privateKey,
    publicKey: privateKey ? createPublicKey(privateKey) : createPublicKey({ key: { ...stored.publicJwk }, format: 'jwk' }),
    jwk: stored.publicJwk,
  };
}
