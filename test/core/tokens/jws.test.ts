// Tokens signed with node:crypto instead of jsonwebtoken: jsonwebtoken (and the guard) must verify them exactly as before.
import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { signJws } from '../../../lib/core/tokens/jws';

const claims = { iss: 'https://auth.test', sub: 'c1', client_id: 'c1', aud: 'https://auth.test', scope: 'read', iat: 1_700_000_000, exp: 1_700_003_600, jti: 'j1' };

describe('JWS signing', () => {
  it.each([
    ['RS256', generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ['ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' })],
  ] as const)('produces a %s compact JWS that jsonwebtoken verifies, with the header as given (RFC 7515 §7.1)', async (alg, pair) => {
    const token = await signJws({ alg, typ: 'at+jwt', kid: 'k1' }, claims, pair.privateKey);
    const decoded = jwt.verify(token, pair.publicKey, { algorithms: [alg], complete: true, clockTimestamp: claims.iat });
    expect(decoded.header).toEqual({ alg, typ: 'at+jwt', kid: 'k1' });
    expect(decoded.payload).toEqual(claims);
  });

  it('writes an ES256 signature as the 64-byte r || s pair, not DER (RFC 7518 §3.4)', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const token = await signJws({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' }, claims, privateKey);
    expect(Buffer.from(token.split('.')[2] as string, 'base64url')).toHaveLength(64);
  });

  it('rejects a key that does not fit the algorithm instead of signing with it', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await expect(signJws({ alg: 'ES256', kid: 'k' }, claims, rsa)).rejects.toThrow('the signing key does not fit ES256');
    await expect(signJws({ alg: 'RS256', kid: 'k' }, claims, ec)).rejects.toThrow('the signing key does not fit RS256');
  });
});
