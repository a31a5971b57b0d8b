// private_key_jwt (RFC 7523 §2.2 / §3, RFC 7521 §4.2): reading the assertion, checking it against the client's keys, claiming its jti once; registered key sets.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike, type JWK } from 'jose';
import {
  AssertionRejected,
  ClientAssertionVerifier,
  JWT_BEARER_ASSERTION_TYPE,
  readClientAssertion,
} from '../../../lib/core/client-auth/private-key-jwt';
import { ClientKeySets, validateClientJwks, validateJwksUri } from '../../../lib/core/client-auth/client-keys';
import { MemoryClaims } from '../../../lib/core/verification/replay-cache';
import { InvalidClientError, InvalidRequestError } from '../../../lib/core/model/errors';
import type { Client } from '../../../lib/core/model/client';

const NOW = Date.UTC(2026, 0, 1);
const ISSUER = 'https://as.test';
const TOKEN_URL = 'https://as.test/oauth/token';
let key: KeyLike;
let jwk: JWK;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  key = pair.privateKey;
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
});

function client(overrides: Partial<Client> = {}): Client {
  return {
    id: 'c1', name: 'c', scopes: [], audiences: [], groups: [], effectiveScopes: [], effectiveAudiences: [],
    grantTypes: ['client_credentials'], tokenFormat: 'jwt', enabled: true, secrets: [], version: 1, tokensNotBefore: 0,
    createdAt: 0, updatedAt: 0, description: '', tokenLifetime: null, jwks: { keys: [jwk as unknown as Record<string, unknown>] }, ...overrides,
  };
}

function assertion(claims: Record<string, unknown> = {}, signWith: KeyLike = key, kid = 'k1', alg = 'ES256'): Promise<string> {
  return new SignJWT({ iss: 'c1', sub: 'c1', aud: ISSUER, jti: randomUUID(), iat: NOW / 1000, exp: NOW / 1000 + 60, ...claims })
    .setProtectedHeader({ alg, kid })
    .sign(signWith);
}

function verifier(claims = new MemoryClaims(100), cooldownMs = 1000): ClientAssertionVerifier {
  return new ClientAssertionVerifier(new ClientKeySets({ max: 10, cooldownMs, cacheMaxAgeMs: 60_000, timeoutMs: 2000 }), claims, {
    audiences: [ISSUER, TOKEN_URL],
    maxLifetimeSeconds: 300,
    clockToleranceSeconds: 5,
    clock: () => NOW,
  });
}

async function rejected(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AssertionRejected);
  return (err as Error).message;
}

const form = (a: string, extra: Record<string, string> = {}) => ({ client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: a, ...extra });

describe('reading a client assertion', () => {
  it('takes the client id from sub when iss = sub (RFC 7523 §3 items 1, 2)', async () => {
    expect(readClientAssertion(form(await assertion())).clientId).toBe('c1');
    expect(() => readClientAssertion(form('not-a-jwt'))).toThrow(InvalidClientError);
  });

  it('refuses iss different from sub (RFC 7523 §3 item 1)', async () => {
    const a = await assertion({ iss: 'other' });
    expect(() => readClientAssertion(form(a))).toThrow(InvalidClientError);
  });

  it('refuses another client_assertion_type (RFC 7523 §2.2)', async () => {
    const a = await assertion();
    expect(() => readClientAssertion({ client_assertion_type: 'urn:other', client_assertion: a })).toThrow(InvalidRequestError);
  });

  it('refuses a body client_id that names another client (RFC 7521 §4.2)', async () => {
    expect(() => readClientAssertion({ client_assertion_type: JWT_BEARER_ASSERTION_TYPE })).toThrow(InvalidRequestError);
    const a = await assertion();
    expect(() => readClientAssertion(form(a, { client_id: 'c2' }))).toThrow(InvalidRequestError);
    expect(readClientAssertion(form(a, { client_id: 'c1' })).clientId).toBe('c1');
  });
});

describe('checking a client assertion', () => {
  it('accepts aud = the issuer or the token endpoint URL (RFC 7523 §3 item 3)', async () => {
    const v = verifier();
    await expect(v.check({ method: 'private_key_jwt', clientId: 'c1', assertion: await assertion() }, client())).resolves.toBeUndefined();
    await expect(v.check({ method: 'private_key_jwt', clientId: 'c1', assertion: await assertion({ aud: TOKEN_URL }) }, client())).resolves.toBeUndefined();
    expect(await rejected(v.check({ method: 'private_key_jwt', clientId: 'c1', assertion: await assertion({ aud: 'https://other' }) }, client()))).toMatch(/aud/);
  });

  it('refuses a multi-valued aud (RFC 7523 §3 item 3, single-valued)', async () => {
    const a = await assertion({ aud: [ISSUER, 'https://other'] });
    expect(await rejected(verifier().check({ method: 'private_key_jwt', clientId: 'c1', assertion: a }, client()))).toMatch(/single/);
  });

  it('requires exp, and refuses one too far ahead or past (RFC 7523 §3 item 4)', async () => {
    const v = verifier();
    const check = async (claims: Record<string, unknown>) => rejected(v.check({ method: 'private_key_jwt', clientId: 'c1', assertion: await assertion(claims) }, client()));
    expect(await check({ exp: undefined })).toMatch(/exp/);
    expect(await check({ exp: NOW / 1000 + 3600 })).toMatch(/too far/);
    expect(await check({ exp: NOW / 1000 - 60 })).toMatch(/expired/);
  });

  it('requires jti and refuses a replay until exp (RFC 7523 §3 item 7)', async () => {
    const v = verifier();
    expect(await rejected(v.check({ method: 'private_key_jwt', clientId: 'c1', assertion: await assertion({ jti: undefined }) }, client()))).toMatch(/jti/);
    const a = await assertion();
    await v.check({ method: 'private_key_jwt', clientId: 'c1', assertion: a }, client());
    expect(await rejected(v.check({ method: 'private_key_jwt', clientId: 'c1', assertion: a }, client()))).toMatch(/replay/);
  });

  it('refuses a signature by a key the client did not register (RFC 7523 §3 item 9)', async () => {
    const other = await generateKeyPair('ES256');
    const a = await assertion({}, other.privateKey);
    expect(await rejected(verifier().check({ method: 'private_key_jwt', clientId: 'c1', assertion: a }, client()))).toMatch(/signature/);
  });

  it('refuses a symmetric algorithm even with a known kid (RFC 7523 §3 item 9, asymmetric only)', async () => {
    const a = await new SignJWT({ iss: 'c1', sub: 'c1', aud: ISSUER, jti: 'j', exp: NOW / 1000 + 60 }).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(new Uint8Array(32));
    expect(await rejected(verifier().check({ method: 'private_key_jwt', clientId: 'c1', assertion: a }, client()))).toMatch(/algorithm/);
  });

  it('resolves not proved, with the reason for the audit log, for an unknown client or one without keys', async () => {
    const a = await assertion();
    await expect(verifier().verify({ method: 'private_key_jwt', clientId: 'c1', assertion: a }, undefined)).resolves.toEqual({ failed: 'unknown client' });
    await expect(verifier().verify({ method: 'private_key_jwt', clientId: 'c1', assertion: a }, client({ jwks: null }))).resolves.toEqual({
      failed: 'the client has no registered keys',
    });
  });
});

describe('jwks_uri key sets', () => {
  let server: Server;
  let url: string;
  let published: JWK[];
  let fetches = 0;

  beforeAll(async () => {
    published = [jwk];
    server = createServer((_req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('fetches the set once and refetches when an unknown kid arrives (RFC 7591 §2 jwks_uri)', async () => {
    // No cooldown, so the test does not wait on jose's own clock.
    const v = verifier(new MemoryClaims(100), 0);
    const c = client({ jwks: null, jwksUri: url });
    await v.check({ method: 'private_key_jwt', clientId: 'c1', assertion: await assertion() }, c);
    await v.check({ method: 'private_key_jwt', clientId: 'c1', assertion: await assertion() }, c);
    expect(fetches).toBe(1);
    const rotated = await generateKeyPair('ES256');
    published = [jwk, { ...(await exportJWK(rotated.publicKey)), kid: 'k2', alg: 'ES256' }];
    await v.check({ method: 'private_key_jwt', clientId: 'c1', assertion: await assertion({}, rotated.privateKey, 'k2') }, c);
    expect(fetches).toBe(2);
  });
});

describe('registered key sets', () => {
  it('accepts public asymmetric keys and refuses private or symmetric ones (RFC 7591 §2)', async () => {
    expect(validateClientJwks({ keys: [jwk] }).keys).toHaveLength(1);
    const privateJwk = await exportJWK(key);
    expect(() => validateClientJwks({ keys: [privateJwk] })).toThrow(/public/);
    expect(() => validateClientJwks({ keys: [{ kty: 'oct', k: 'AAAA' }] })).toThrow(/asymmetric/);
    expect(() => validateClientJwks({ keys: [] })).toThrow(TypeError);
    expect(() => validateClientJwks([jwk])).toThrow(TypeError);
  });

  it('accepts an https jwks_uri, or http only on loopback', () => {
    expect(validateJwksUri('https://client.example/jwks')).toBe('https://client.example/jwks');
    expect(() => validateJwksUri('http://client.example/jwks')).toThrow(/https/);
    expect(validateJwksUri('http://127.0.0.1:8080/jwks')).toBe('http://127.0.0.1:8080/jwks');
  });
});
