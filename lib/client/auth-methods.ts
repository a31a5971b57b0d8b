// The client authentication methods the token client supports, by their RFC 8414 / RFC 7591 names, and the key material private_key_jwt signs with; apart from client-auth.ts so the public declarations never import oauth4webapi (an ES module a CommonJS consumer's type check cannot require).
import { createPrivateKey, type KeyObject } from 'node:crypto';

/** The methods the token client supports. */
export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

/** Algorithms the token client signs assertions with (asymmetric only, as the server accepts). */
export const ASSERTION_SIGNING_ALGORITHMS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'] as const;
export type AssertionSigningAlgorithm = (typeof ASSERTION_SIGNING_ALGORITHMS)[number];

/**
 * A private JWK (RFC 7517) as JSON. Our own structural type: the public declarations must not depend on
 * which @types/node a consumer has (older ones lack `crypto.JsonWebKey`).
 */
export interface PrivateJwk {
  kty?: string;
  [member: string]: unknown;
}

/** A private key as the caller has it: a KeyObject, a PEM string, or a private JWK. */
export type PrivateKeyInput = KeyObject | string | PrivateJwk;

/** What the client authenticates with: a secret, or a private key (with its `kid` and algorithm). */
export type ClientCredential =
  | { method: 'client_secret_basic' | 'client_secret_post'; clientSecret: string }
  | { method: 'private_key_jwt'; privateKey: KeyObject; kid: string | undefined; alg: AssertionSigningAlgorithm };

/**
 * Reads a private key (PEM, JWK or KeyObject) into a KeyObject; throws TypeError (never with key
 * material in the message) when it is not an asymmetric private key.
 */
export function toPrivateKeyObject(input: PrivateKeyInput): KeyObject {
  let key: KeyObject;
  try {
    if (typeof input === 'string') key = createPrivateKey(input);
    else if (typeof (input as KeyObject).asymmetricKeyType === 'string' || (input as KeyObject).type !== undefined) key = input as KeyObject;
    else key = createPrivateKey({ key: input as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch {
    throw new TypeError('privateKey must be an asymmetric private key (KeyObject, PEM or JWK)');
  }
  if (key.type !== 'private') throw new TypeError('privateKey must be a private key');
  return key;
}

/** The default algorithm for a key: its curve for EC, RS256 for RSA, PS256 for RSA-PSS, EdDSA for Ed25519. */
export function defaultAlgorithm(key: KeyObject): AssertionSigningAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1' || curve === 'P-256') return 'ES256';
    if (curve === 'secp384r1' || curve === 'P-384') return 'ES384';
    throw new TypeError('privateKey: only the P-256 and P-384 curves are supported');
  }
  if (type === 'rsa') return 'RS256';
  if (type === 'rsa-pss') return 'PS256';
  if (type === 'ed25519') return 'EdDSA';
  throw new TypeError(`privateKey: ${String(type)} keys are not supported`);
}
