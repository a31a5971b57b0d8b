// JWS compact serialization (RFC 7515 §7.1) signed with node:crypto: RS256 on libuv's thread pool, ES256 on the loop.
import { sign, type KeyObject } from 'node:crypto';
import type { SigningAlgorithm } from './keys';

function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** RS256 needs an RSA key, ES256 a P-256 key (RFC 7518 §3.3, §3.4); node:crypto would sign with either. */
function keyFits(alg: SigningAlgorithm, key: KeyObject): boolean {
  if (alg === 'RS256') return key.asymmetricKeyType === 'rsa';
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

/**
 * Signs `payload` as a compact JWS. jsonwebtoken has no way to sign off the event loop (its callback
 * form signs synchronously), and an RS256 signature costs about half a millisecond of CPU, so RS256 uses
 * the callback form of `crypto.sign`, which runs on libuv's thread pool. An ES256 signature costs about
 * 50 µs, less than handing it to the pool, so it is made in place; `ieee-p1363` gives the fixed-size
 * r || s form RFC 7518 §3.4 requires (OpenSSL's default is DER). RS256 is RSASSA-PKCS1-v1_5 with
 * SHA-256 (RFC 7518 §3.3), OpenSSL's default padding for an RSA key. jsonwebtoken still verifies.
 */
export function signJws(header: { alg: SigningAlgorithm; [name: string]: unknown }, payload: object, key: KeyObject): Promise<string> {
  if (!keyFits(header.alg, key)) return Promise.reject(new TypeError(`the signing key does not fit ${header.alg}`));
  const signingInput = `${base64urlJson(header)}.${base64urlJson(payload)}`;
  const data = Buffer.from(signingInput);
  if (header.alg === 'ES256') {
    try {
      return Promise.resolve(`${signingInput}.${sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`);
    } catch (err) {
      return Promise.reject(err);
    }
  }
  return new Promise((resolve, reject) => {
    sign('sha256', data, key, (err, signature) => {
      if (err) reject(err);
      else resolve(`${signingInput}.${signature.toString('base64url')}`);
    });
  });
}
