// Verified-token cache of a remote JWKS guard: an entry counts only while its key is published and the clock is inside nbf..exp.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import express from 'express';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { createResourceServer, oauthErrorHandler, type ResourceServerOptions } from '../lib';
import { JwksVerifier } from '../lib/core/verification/remote-verifiers';
import { fakeClock, memoryLogger } from './helpers';
import { listen } from './remote-helpers';

const ORDERS = 'https://orders.internal';
const JWKS = '/.well-known/jwks.json';

interface Key {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}
const newKey = (kid: string): Key => ({ kid, ...generateKeyPairSync('ec', { namedCurve: 'P-256' }) });

const clock = fakeClock();
const cleanups: (() => Promise<void> | void)[] = [];
let verifyBound: jest.SpyInstance;
beforeEach(() => {
  clock.set(Date.UTC(2026, 0, 1));
  verifyBound = jest.spyOn(JwksVerifier.prototype, 'verifyBound');
});
afterEach(async () => {
  verifyBound.mockRestore();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fake issuer on 127.0.0.1 publishing `published` (changeable), and an orders service guarded by it. */
async function setUp(published: Key[], options: Partial<ResourceServerOptions> = {}) {
  const keys = { published };
  const jwksHits = { count: 0 };
  const issuer = await listen((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === JWKS) {
      jwksHits.count++;
      const jwks = keys.published.map((k) => ({ ...k.publicKey.export({ format: 'jwk' }), kid: k.kid, alg: 'ES256', use: 'sig' }));
      res.end(JSON.stringify({ keys: jwks }));
    } else res.end(JSON.stringify({ issuer: issuer.url, jwks_uri: `${issuer.url}${JWKS}` }));
  });
  cleanups.push(() => issuer.close());
  const rs = createResourceServer({ issuer: issuer.url, audience: ORDERS, logger: memoryLogger(), jwksCooldown: 0, clockTolerance: 0, clock: clock.now, ...options });
  const app = express().get('/orders', rs.requireScope('read'), (req, res) => res.json({ clientId: req.auth?.clientId })).use(oauthErrorHandler());
  const service = await listen(app);
  cleanups.push(() => rs.close(), () => service.close());
  const sign = (key: Key, claims: Record<string, unknown> = {}) => {
    const now = Math.floor(clock.now() / 1000);
    return jwt.sign({ iss: issuer.url, aud: ORDERS, sub: 'c1', client_id: 'c1', jti: `j${Math.random()}`, scope: 'read', iat: now, exp: now + 60, ...claims }, key.privateKey, {
      algorithm: 'ES256',
      keyid: key.kid,
      header: { alg: 'ES256', typ: 'at+jwt' },
    });
  };
  return { keys, jwksHits, sign, get: (token: string) => request(service.url).get('/orders').auth(token, { type: 'bearer' }) };
}

describe('remote guard token cache', () => {
  it('checks a token signature once, then serves it from the cache with no request to the issuer', async () => {
    const a = newKey('a');
    const svc = await setUp([a]);
    const token = svc.sign(a);
    for (let i = 0; i < 3; i++) expect((await svc.get(token)).body).toEqual({ clientId: 'c1' });
    expect(verifyBound).toHaveBeenCalledTimes(1);
    expect(svc.jwksHits.count).toBe(1);
  });

  it('stops counting a cached token once a refresh drops the key that verified it (rotation)', async () => {
    const [a, b] = [newKey('a'), newKey('b')];
    const svc = await setUp([a]);
    const old = svc.sign(a);
    expect((await svc.get(old)).status).toBe(200);
    svc.keys.published = [b];
    // A token with the new kid makes the guard refetch the key set, which no longer has `a`.
    expect((await svc.get(svc.sign(b))).status).toBe(200);
    const res = await svc.get(old);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_token', error_description: 'the access token was signed with an unknown key' });
  });

  it('stops counting a cached token when its kid is republished with other key material', async () => {
    const [a, b] = [newKey('a'), newKey('b')];
    const svc = await setUp([a]);
    const old = svc.sign(a);
    expect((await svc.get(old)).status).toBe(200);
    svc.keys.published = [{ ...newKey('a') }, b];
    expect((await svc.get(svc.sign(b))).status).toBe(200);
    const res = await svc.get(old);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_token', error_description: 'the access token signature is invalid' });
  });

  it('keeps cached tokens whose key a refresh still publishes', async () => {
    const [a, b] = [newKey('a'), newKey('b')];
    const svc = await setUp([a]);
    const old = svc.sign(a);
    expect((await svc.get(old)).status).toBe(200);
    svc.keys.published = [a, b];
    expect((await svc.get(svc.sign(b))).status).toBe(200);
    expect((await svc.get(old)).status).toBe(200);
    expect(svc.jwksHits.count).toBe(2);
    expect(verifyBound).toHaveBeenCalledTimes(2);
  });

  it('refuses a cached token once the clock passes its exp (RFC 9068 §4)', async () => {
    const a = newKey('a');
    const svc = await setUp([a]);
    const token = svc.sign(a);
    expect((await svc.get(token)).status).toBe(200);
    clock.advance(60_000);
    const res = await svc.get(token);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="oauth", error="invalid_token", error_description="the access token expired"');
  });

  it('refuses a cached token when the clock is before its nbf', async () => {
    const a = newKey('a');
    const svc = await setUp([a]);
    const nbf = Math.floor(clock.now() / 1000);
    const token = svc.sign(a, { nbf });
    expect((await svc.get(token)).status).toBe(200);
    clock.set((nbf - 10) * 1000);
    const res = await svc.get(token);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_token', error_description: 'the access token is not valid yet' });
  });

  it('verifies every request when tokenCacheSize is 0', async () => {
    const a = newKey('a');
    const svc = await setUp([a], { tokenCacheSize: 0 });
    const token = svc.sign(a);
    for (let i = 0; i < 3; i++) expect((await svc.get(token)).status).toBe(200);
    expect(verifyBound).not.toHaveBeenCalled();
  });
});
