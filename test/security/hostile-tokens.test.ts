// The hostile JWTs of RFC 8725 §2-§3 against the requireScope() guard: each is refused with 401 invalid_token.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { buildApp, ISSUER, type TestApp } from '../helpers';

let t: TestApp;
let realKey: { privateKey: KeyObject; publicKey: KeyObject; kid: string };
let clientId: string;
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });

beforeAll(async () => {
  t = await buildApp();
  const { id, secret } = await t.createClient('read');
  clientId = id;
  await t.tokenFor(id, secret);
  const signer = await t.oauth.server.keys.getSigner();
  realKey = { privateKey: signer.privateKey as KeyObject, publicKey: signer.publicKey, kid: signer.kid };
});
afterAll(() => t.close());

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: ISSUER, sub: clientId, client_id: clientId, aud: ISSUER, scope: 'read', iat: now, exp: now + 600, jti: 'j1', ...overrides };
}

/** RS256 with the issuer's real key, over exactly these JSON objects (jsonwebtoken's sign() would refuse mistyped claims). */
function signReal(payload: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const input = unsigned({ alg: 'RS256', typ: 'at+jwt', kid: realKey.kid, ...header }, payload).slice(0, -1);
  return `${input}.${cryptoSign('sha256', Buffer.from(input), realKey.privateKey).toString('base64url')}`;
}

function unsigned(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part(header)}.${part(payload)}.`;
}

async function expectRefused(token: string, description: string): Promise<void> {
  const res = await request(t.app).get('/api/items').set('Authorization', `Bearer ${token}`);
  expect(res.status).toBe(401);
  expect(res.body).toEqual({ error: 'invalid_token', error_description: description });
  expect(res.headers['www-authenticate']).toBe(`Bearer realm="oauth", error="invalid_token", error_description="${description}"`);
}

describe('requireScope guard against RFC 8725 hostile tokens', () => {
  it('accepts the well-formed token the hostile ones are derived from (control)', async () => {
    const res = await request(t.app).get('/api/items').set('Authorization', `Bearer ${signReal(claims())}`);
    expect(res.status).toBe(200);
  });

  it('refuses alg "none" (RFC 8725 §2.1, §3.1)', async () => {
    await expectRefused(unsigned({ alg: 'none', typ: 'at+jwt', kid: realKey.kid }, claims()), 'the access token algorithm is not accepted');
  });

  it('refuses HS256 signed with the public key as the HMAC secret (RFC 8725 §2.1 algorithm substitution)', async () => {
    const pem = realKey.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const forged = `${unsigned({ alg: 'HS256', typ: 'at+jwt', kid: realKey.kid }, claims()).slice(0, -1)}`;
    const token = `${forged}.${createHmac('sha256', pem).update(forged).digest('base64url')}`;
    await expectRefused(token, 'the access token algorithm is not accepted');
  });

  it('refuses an unknown kid signed with another key, without trusting it', async () => {
    const token = jwt.sign(claims(), attacker.privateKey, { algorithm: 'RS256', header: { alg: 'RS256', typ: 'at+jwt', kid: 'attacker-kid' } });
    await expectRefused(token, 'the access token was signed with an unknown key');
  });

  it('refuses a token signed by another key under our kid', async () => {
    const token = jwt.sign(claims(), attacker.privateKey, { algorithm: 'RS256', header: { alg: 'RS256', typ: 'at+jwt', kid: realKey.kid } });
    await expectRefused(token, 'the access token signature is invalid');
  });

  describe('embedded key headers', () => {
    let server: Server;
    let hits = 0;
    let url: string;
    beforeAll(async () => {
      server = createServer((_req, res) => {
        hits++;
        res.end(JSON.stringify({ keys: [{ ...attacker.publicKey.export({ format: 'jwk' }), kid: 'attacker-kid', alg: 'RS256' }] }));
      }).listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('ignores jwk, jku, x5u and x5c headers and never fetches them (RFC 8725 §3.10)', async () => {
      const jwk = { ...attacker.publicKey.export({ format: 'jwk' }), kid: 'attacker-kid' };
      for (const header of [{ jwk }, { jku: url }, { x5u: url }, { x5c: ['MIIB'] }, { jwk, jku: url, x5u: url }]) {
        const token = jwt.sign(claims(), attacker.privateKey, { algorithm: 'RS256', header: { alg: 'RS256', typ: 'at+jwt', kid: 'attacker-kid', ...header } });
        await expectRefused(token, 'the access token was signed with an unknown key');
      }
      expect(hits).toBe(0);
    });
  });

  it('refuses a crit header, even when signed by the real key (RFC 7515 §4.1.11)', async () => {
    await expectRefused(signReal(claims(), { crit: ['exp'] }), 'the access token has critical header parameters');
  });

  it('refuses a token of another issuer or for another audience (RFC 8725 §3.8, §3.9)', async () => {
    await expectRefused(signReal(claims({ iss: 'https://evil.test' })), 'the access token was issued by another issuer');
    await expectRefused(signReal(claims({ aud: 'https://other-api.test' })), 'the access token is not meant for this audience');
  });

  it('refuses exp far in the past, and a huge nbf', async () => {
    await expectRefused(signReal(claims({ iat: 1000, exp: 2000 })), 'the access token expired');
    await expectRefused(signReal(claims({ nbf: 4_102_444_800_000 })), 'the access token is not valid yet');
    await expectRefused(signReal(claims({ nbf: 1e300 })), 'the access token is not valid yet');
  });

  it('refuses exp far in the future when a forger signed it', async () => {
    const token = jwt.sign(claims({ exp: 4_102_444_800 }), attacker.privateKey, { algorithm: 'RS256', header: { alg: 'RS256', typ: 'at+jwt', kid: realKey.kid } });
    await expectRefused(token, 'the access token signature is invalid');
  });

  it('refuses a token without exp', async () => {
    const payload = claims();
    delete payload.exp;
    await expectRefused(signReal(payload), 'the access token has no valid expiry');
  });

  it.each([
    [{ scope: ['read'] }, 'the access token scope claim is malformed'],
    [{ scope: 7 }, 'the access token scope claim is malformed'],
    [{ sub: 42 }, 'the access token lacks required claims'],
    [{ client_id: { id: 'x' } }, 'the access token lacks required claims'],
    [{ jti: 1 }, 'the access token lacks required claims'],
    [{ iat: '1' }, 'the access token has an invalid issue time'],
    [{ exp: '9999999999' }, 'the access token is invalid'],
    [{ iss: 1 }, 'the access token was issued by another issuer'],
    [{ aud: 5 }, 'the access token is not meant for this audience'],
  ])('refuses non-string or mistyped claims: %j', async (override, description) => {
    await expectRefused(signReal(claims(override)), description);
  });

  it('refuses a token whose typ is not at+jwt (RFC 9068 §4, RFC 8725 §3.11)', async () => {
    await expectRefused(signReal(claims(), { typ: 'JWT' }), 'the token is not an access token (typ)');
  });
});
