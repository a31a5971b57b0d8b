// Client authentication at the token endpoint through oauth4webapi: the two secret methods, and private_key_jwt (RFC 7523 §2.2) signing a fresh assertion with the client's key.
import { webcrypto, type KeyObject } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import type { AssertionSigningAlgorithm, ClientCredential } from './auth-methods';

export { CLIENT_AUTH_METHODS, type ClientAuthMethod } from './auth-methods';

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
