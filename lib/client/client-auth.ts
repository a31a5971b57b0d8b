// Client authentication methods at the token endpoint, by their RFC 8414 / RFC 7591 names; oauth4webapi builds each, private_key_jwt (RFC 7523 §2.2) from a key given as KeyObject, PEM or JWK.
import { createPrivateKey, webcrypto, type JsonWebKey as NodeJwk, type KeyObject } from 'node:crypto';
import * as oauth from 'oauth4webapi';

/** The methods the token client supports. */
export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

/** Algorithms the token client signs assertions with (asymmetric only, as the server accepts). */
export const ASSERTION_SIGNING_ALGORITHMS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'] as const;
export type AssertionSigningAlgorithm = (typeof ASSERTION_SIGNING_ALGORITHMS)[number];

/** A private key as the caller has it: a KeyObject, a PEM string, or a private JWK. */
export type PrivateKeyInput = KeyObject | string | NodeJwk;

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
    else key = createPrivateKey({ key: input as NodeJwk, format: 'jwk' });
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

/** WebCrypto import parameters of each algorithm (oauth4webapi signs with a CryptoKey). */
function importParams(alg: AssertionSigningAlgorithm): Parameters<typeof webcrypto.subtle.importKey>[2] {
  switch (alg) {
    case 'ES256':
      return { name: 'ECDSA', namedCurve: 'P-256' };
    case 'ES384':
      return { name: 'ECDSA', namedCurve: 'P-384' };
    case 'RS256':
      return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    case 'PS256':
      return { name: 'RSA-PSS', hash: 'SHA-256' };
    case 'EdDSA':
      return { name: 'Ed25519' };
  }
}

/** The key as a non-extractable WebCrypto signing key (Node 20 has no KeyObject.toCryptoKey). */
async function toCryptoKey(key: KeyObject, alg: AssertionSigningAlgorithm): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('jwk', key.export({ format: 'jwk' }), importParams(alg), false, ['sign']);
}

/** oauth4webapi's own name for a signing key (its types use the DOM's CryptoKey, the same object as Node's). */
type OauthPrivateKey = Extract<Parameters<typeof oauth.PrivateKeyJwt>[0], { kid?: string }>;

/**
 * The oauth4webapi authenticator for a credential. `client_secret_basic` form-encodes id and secret before
 * Base64 (RFC 6749 §2.3.1), so a secret with `:` or non-ASCII characters survives. `private_key_jwt`
 * signs a fresh assertion (new `jti`, 60 s `exp`, `aud` the issuer) for every request (RFC 7523 §3).
 */
export function clientAuthentication(credential: ClientCredential): oauth.ClientAuth {
  switch (credential.method) {
    case 'client_secret_basic':
      return oauth.ClientSecretBasic(credential.clientSecret);
    case 'client_secret_post':
      return oauth.ClientSecretPost(credential.clientSecret);
    case 'private_key_jwt': {
      let auth: Promise<oauth.ClientAuth> | undefined;
      return async (as, client, body, headers) => {
        auth ??= toCryptoKey(credential.privateKey, credential.alg).then((cryptoKey) => {
          const key = cryptoKey as unknown as OauthPrivateKey['key'];
          return oauth.PrivateKeyJwt(credential.kid === undefined ? { key } : { key, kid: credential.kid });
        });
        return (await auth)(as, client, body, headers);
      };
    }
  }
}
