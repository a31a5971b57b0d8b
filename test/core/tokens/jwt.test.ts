// Access token verification (RFC 9068 §4, RFC 8725): pinned algorithms, key confusion, typ, iss, aud, time claims, scope claims.
import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { InvalidTokenError } from '../../../lib/core/model/errors';
import { generateSigningKey, loadKey, type LoadedKey, type SigningAlgorithm } from '../../../lib/core/tokens/keys';
import { signAccessToken, verifyAccessToken, type AccessTokenClaims, type TokenExpectations } from '../../../lib/core/tokens/jwt';

const ISS = 'https://auth.test';
const AUD = 'https://api.test';
const NOW = Date.UTC(2026, 0, 1);
const NOW_S = NOW / 1000;

let key: LoadedKey;
let otherKey: LoadedKey;
let ecKey: LoadedKey;
beforeAll(async () => {
  [key, otherKey, ecKey] = await Promise.all([
    generateSigningKey('RS256', NOW).then(loadKey),
    generateSigningKey('RS256', NOW).then(loadKey),
    generateSigningKey('ES256', NOW).then(loadKey),
  ]);
});

const resolve = (kid: string) => [key, ecKey].find((k) => k.kid === kid);

function claims(overrides: Record<string, unknown> = {}): AccessTokenClaims {
  return { iss: ISS, sub: 'client-1', client_id: 'client-1', aud: AUD, scope: 'read write', iat: NOW_S, exp: NOW_S + 3600, jti: 'jti-1', ...overrides };
}

function expectations(overrides: Partial<TokenExpectations> = {}): TokenExpectations {
  return { issuer: ISS, audience: [AUD], algorithms: ['RS256', 'ES256'], clockTolerance: 5, clock: () => NOW, ...overrides };
}

/** Signs with jsonwebtoken and a chosen header, for tokens this library would never issue. */
function signWith(payload: Record<string, unknown>, signer: LoadedKey, header: Record<string, unknown> = {}): string {
  const alg = signer.alg as SigningAlgorithm;
  return jwt.sign(payload, signer.privateKey!, { algorithm: alg, header: { alg, typ: 'at+jwt', kid: signer.kid, ...header } });
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Takes the token or the promise signAccessToken returns (it signs on the thread pool). */
async function rejection(token: string | Promise<string>, expect_: TokenExpectations = expectations()) {
  return verifyAccessToken(await token, resolve, expect_);
}

async function expectInvalid(token: string | Promise<string>, description: string, expect_?: TokenExpectations): Promise<void> {
  const err = await rejection(token, expect_).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidTokenError);
  expect(err).toMatchObject({ error: 'invalid_token', status: 401, message: description });
}

describe('access token verification', () => {
  it('accepts a token of this issuer and returns the client id, the scopes as an array and the claims', async () => {
    const token = await signAccessToken(claims(), key);
    await expect(verifyAccessToken(token, resolve, expectations())).resolves.toEqual({
      clientId: 'client-1',
      scopes: ['read', 'write'],
      claims: claims(),
    });
  });

  it('accepts an ES256 token when ES256 is on the pinned list', async () => {
    const token = await signAccessToken(claims(), ecKey);
    await expect(verifyAccessToken(token, resolve, expectations())).resolves.toMatchObject({ clientId: 'client-1' });
  });

  describe('algorithms and keys (RFC 8725 §3.1, §3.2)', () => {
    it('rejects an unsigned token with alg "none"', async () => {
      const token = `${b64({ alg: 'none', typ: 'at+jwt', kid: key.kid })}.${b64(claims())}.`;
      await expectInvalid(token, 'the access token algorithm is not accepted');
    });

    it('rejects an HS256 token whose HMAC secret is the issuer public key (key confusion)', async () => {
      const publicPem = key.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: key.kid })}.${b64(claims())}`;
      const token = `${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`;
      await expectInvalid(token, 'the access token algorithm is not accepted');
    });

    it('rejects an algorithm that is not on the pinned list even when the key supports it', async () => {
      await expectInvalid(signAccessToken(claims(), ecKey), 'the access token algorithm is not accepted', expectations({ algorithms: ['RS256'] }));
    });

    it('rejects a token signed by another key under the issuer key id', async () => {
      await expectInvalid(signWith(claims(), otherKey, { kid: key.kid }), 'the access token signature is invalid');
    });

    it('rejects a token signed by a key the issuer does not hold', async () => {
      await expectInvalid(signAccessToken(claims(), otherKey), 'the access token was signed with an unknown key');
    });

    it('ignores a key embedded in the header (jwk) and looks keys up only by kid', async () => {
      const token = signWith(claims(), otherKey, { jwk: otherKey.jwk, jku: 'https://evil.test/jwks' });
      await expectInvalid(token, 'the access token was signed with an unknown key');
    });

    it('rejects a header alg that does not match the key behind the kid', async () => {
      const token = signWith(claims(), ecKey, { kid: key.kid });
      await expectInvalid(token, 'the access token was signed with an unknown key');
    });

    it('rejects a token without a kid', async () => {
      const token = jwt.sign(claims(), key.privateKey!, { algorithm: 'RS256', header: { alg: 'RS256', typ: 'at+jwt' } });
      await expectInvalid(token, 'the access token has no key id');
    });

    it('rejects critical header parameters it does not understand (RFC 7515 §4.1.11)', async () => {
      await expectInvalid(signWith(claims(), key, { crit: ['exp'] }), 'the access token has critical header parameters');
    });
  });

  describe('token type (RFC 9068 §4)', () => {
    it.each(['JWT', 'jwt', undefined])('rejects typ %p', async (typ) => {
      await expectInvalid(signWith(claims(), key, { typ }), 'the token is not an access token (typ)');
    });

    it.each(['AT+JWT', 'application/at+jwt'])('accepts typ %p (compared case-insensitively)', async (typ) => {
      await expect(rejection(signWith(claims(), key, { typ }))).resolves.toMatchObject({ clientId: 'client-1' });
    });
  });

  describe('issuer and audience', () => {
    it('rejects a token from another issuer', async () => {
      await expectInvalid(signAccessToken(claims({ iss: 'https://other.test' }), key), 'the access token was issued by another issuer');
    });

    it('rejects a token for another audience', async () => {
      await expectInvalid(signAccessToken(claims({ aud: 'https://other.test' }), key), 'the access token is not meant for this audience');
    });

    it('accepts a token whose aud array contains one of the accepted audiences', async () => {
      const token = signAccessToken(claims({ aud: ['https://other.test', AUD] }), key);
      await expect(rejection(token)).resolves.toMatchObject({ clientId: 'client-1' });
    });

    it('accepts any audience of a guard that lists several', async () => {
      const token = signAccessToken(claims({ aud: 'https://second.test' }), key);
      await expect(rejection(token, expectations({ audience: [AUD, 'https://second.test'] }))).resolves.toMatchObject({ clientId: 'client-1' });
    });
  });

  describe('time claims with the clock tolerance', () => {
    const token = () => signAccessToken(claims({ iat: NOW_S - 3600, exp: NOW_S }), key);

    it('accepts an expired token within the clock tolerance', async () => {
      await expect(rejection(token(), expectations({ clock: () => NOW + 4_000 }))).resolves.toMatchObject({ clientId: 'client-1' });
    });

    it('rejects a token once exp plus the tolerance has passed', async () => {
      await expectInvalid(token(), 'the access token expired', expectations({ clock: () => NOW + 5_000 }));
    });

    it('rejects at exp itself with a tolerance of 0', async () => {
      await expectInvalid(token(), 'the access token expired', expectations({ clockTolerance: 0 }));
    });

    it('rejects a token without exp', async () => {
      const { exp: _exp, ...noExp } = claims();
      await expectInvalid(signWith(noExp, key), 'the access token has no valid expiry');
    });

    it('accepts nbf in the future within the tolerance and rejects it beyond', async () => {
      await expect(rejection(signAccessToken(claims({ nbf: NOW_S + 5 }), key))).resolves.toMatchObject({ clientId: 'client-1' });
      await expectInvalid(signAccessToken(claims({ nbf: NOW_S + 6 }), key), 'the access token is not valid yet');
    });

    it('rejects a token issued in the future beyond the tolerance', async () => {
      await expectInvalid(signAccessToken(claims({ iat: NOW_S + 6 }), key), 'the access token has an invalid issue time');
    });
  });

  describe('shape', () => {
    it.each([
      ['garbage', 'not-a-jwt'],
      ['a JSON string payload', `${b64({ alg: 'RS256', typ: 'at+jwt' })}.${b64('hello')}.sig`],
    ])('rejects %s as malformed', async (_name, token) => {
      await expectInvalid(token, 'the access token is malformed');
    });

    it('rejects a token longer than the verifier reads', async () => {
      await expectInvalid('a'.repeat(8193), 'the access token is too long');
    });

    it('rejects a token without sub, without jti, or with either not a string (RFC 9068 §2.2)', async () => {
      const { jti: _jti, ...noJti } = claims();
      const { sub: _sub, ...noSub } = claims();
      for (const payload of [noJti, noSub, { ...claims(), sub: 42 }, { ...claims(), jti: ['a'] }]) {
        await expectInvalid(signWith(payload, key), 'the access token lacks required claims');
      }
    });
  });

  describe('scope claims (RFC 9068 §2.2.3)', () => {
    it('reads the space-delimited scope claim', async () => {
      await expect(rejection(signAccessToken(claims({ scope: 'a b a' }), key))).resolves.toMatchObject({ scopes: ['a', 'b'] });
    });

    it('rejects a scope claim that breaks the RFC 6749 §3.3 grammar', async () => {
      await expectInvalid(signAccessToken(claims({ scope: 'read  write' }), key), 'the access token scope claim is malformed');
    });

    it('ignores a scp array unless acceptScp is set', async () => {
      const { scope: _scope, ...rest } = claims();
      await expectInvalid(signWith({ ...rest, scp: ['read'] }, key), 'the access token scope claim is malformed');
    });

    it('reads a scp array when acceptScp is set', async () => {
      const { scope: _scope, ...rest } = claims();
      const token = signWith({ ...rest, scp: ['read', 'admin'] }, key);
      await expect(rejection(token, expectations({ acceptScp: true }))).resolves.toMatchObject({ scopes: ['read', 'admin'] });
    });

    it('prefers the scope string over scp when a token has both', async () => {
      const token = signWith({ ...claims({ scope: 'read' }), scp: ['admin'] }, key);
      await expect(rejection(token, expectations({ acceptScp: true }))).resolves.toMatchObject({ scopes: ['read'] });
    });

    it('rejects a scp array holding something that is not a scope token', async () => {
      const { scope: _scope, ...rest } = claims();
      await expectInvalid(signWith({ ...rest, scp: ['read', 'a b'] }, key), 'the access token scope claim is malformed', expectations({ acceptScp: true }));
    });
  });
});
