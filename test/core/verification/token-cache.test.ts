// Verified-token cache of the guard: a cached token is still checked against the clock, and any store change (here or elsewhere) empties the cache.
import request from 'supertest';
import { ClientRegistry } from '../../../lib/core';
import { SqliteStore } from '../../../lib/store/sqlite';
import { CachingTokenVerifier } from '../../../lib/core/verification/token-cache';
import type { VerifiedAccessToken } from '../../../lib/core';
import { buildApp, fakeClock, type TestApp } from '../../helpers';

let t: TestApp;
let verify: jest.SpyInstance;
const clock = fakeClock();

// The watcher's timer is pushed out of reach: on a loaded machine it could fire mid-test and empty the cache,
// so only the changes a test makes (and the polls it calls) decide what the cache holds.
async function setUp(options = {}): Promise<void> {
  clock.set(Date.UTC(2026, 0, 1));
  t = await buildApp({ clock: clock.now, syncInterval: 3_600_000, ...options });
  verify = jest.spyOn(t.oauth.server, 'readToken');
}
beforeEach(() => setUp());
afterEach(async () => {
  verify.mockRestore();
  await t.close();
});

function get(token: string) {
  return request(t.app).get('/api/items').set('Authorization', `Bearer ${token}`);
}

async function cachedToken(): Promise<string> {
  const { id, secret } = await t.createClient('read');
  const token = await t.tokenFor(id, secret);
  expect((await get(token)).status).toBe(200);
  return token;
}

describe('verified-token cache', () => {
  it('verifies a token once and serves it from the cache afterwards, on any guard of the instance', async () => {
    const token = await cachedToken();
    expect((await get(token)).status).toBe(200);
    expect((await request(t.app).get('/api/any').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('refuses an expired token even when it is cached (RFC 6750 §3.1)', async () => {
    const token = await cachedToken();
    clock.advance((3600 + 5 + 1) * 1000);
    const res = await get(token);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_token', error_description: 'the access token expired' });
    expect(res.headers['www-authenticate']).toBe('Bearer realm="oauth", error="invalid_token", error_description="the access token expired"');
  });

  it('hands a token past its exp back to the full verifier, which applies the clock tolerance', async () => {
    const token = await cachedToken();
    clock.advance((3600 + 2) * 1000);
    expect((await get(token)).status).toBe(200);
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('refuses a cached token at once once it is revoked (RFC 7009 §2.2)', async () => {
    const { id, secret, client } = await t.createClient('read');
    const token = await t.tokenFor(id, secret);
    expect((await get(token)).status).toBe(200);
    await t.oauth.server.revokeToken(client, token);
    const res = await get(token);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_token', error_description: 'the access token was revoked' });
  });

  it('refuses a cached token at once when its client is disabled', async () => {
    const { id, secret } = await t.createClient('read');
    const token = await t.tokenFor(id, secret);
    expect((await get(token)).status).toBe(200);
    await t.oauth.registry.setEnabled(id, false);
    const res = await get(token);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_token', error_description: 'the client of this access token is disabled' });
  });

  it('keeps a cached verification when a client changes (revocation is checked live after the cache)', async () => {
    const token = await cachedToken();
    await t.createClient('read', 'another client');
    expect((await get(token)).status).toBe(200);
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('empties the cache at once on a signing-key change made through this process', async () => {
    const token = await cachedToken();
    await t.oauth.server.rotateSigningKey();
    expect((await get(token)).status).toBe(200);
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('empties the cache at the next poll when another process changes the signing keys', async () => {
    // Only the explicit poll below may notice the change, however slow this machine is.
    verify.mockRestore();
    await t.close();
    await setUp({ syncInterval: 3_600_000 });
    const token = await cachedToken();
    const store = SqliteStore.open(t.database);
    try {
      // Any write to the key table is a key change to every instance (the CLI's `key rotate`, say).
      store.db.prepare('UPDATE signing_keys SET created_at = created_at').run();
    } finally {
      await store.close();
    }
    expect((await get(token)).status).toBe(200);
    expect(verify).toHaveBeenCalledTimes(1);
    await t.oauth.server.changes.poll();
    expect((await get(token)).status).toBe(200);
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('verifies every request when tokenCacheSize is 0', async () => {
    await t.close();
    await setUp();
    const app = t.app;
    app.get('/api/uncached', t.oauth.requireScope('read', { tokenCacheSize: 0 }), (_req, res) => res.json({}));
    const { id, secret } = await t.createClient('read');
    const token = await t.tokenFor(id, secret);
    await request(app).get('/api/uncached').set('Authorization', `Bearer ${token}`).expect(200);
    await request(app).get('/api/uncached').set('Authorization', `Bearer ${token}`).expect(200);
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('rejects a bad tokenCacheSize when the route is defined', () => {
    expect(() => t.oauth.requireScope('read', { tokenCacheSize: -1 })).toThrow(TypeError);
  });
});

describe('CachingTokenVerifier', () => {
  const verified = (exp: number, nbf?: number): VerifiedAccessToken => ({
    clientId: 'c',
    scopes: ['read'],
    claims: { iss: 'i', sub: 'c', client_id: 'c', aud: 'a', scope: 'read', iat: 0, exp, jti: 'j', ...(nbf ? { nbf } : {}) },
  });

  it('does not cache a verification that finished after a change began', async () => {
    let release: (v: VerifiedAccessToken) => void = () => undefined;
    const inner = { verify: jest.fn(() => new Promise<VerifiedAccessToken>((resolve) => (release = resolve))) };
    const cache = new CachingTokenVerifier(inner, { maxEntries: 10, clock: () => 0 });
    const pending = cache.verify('token');
    cache.clear();
    release(verified(100));
    await pending;
    expect(cache.size).toBe(0);
  });

  it('does not serve a cached token before its nbf', async () => {
    let now = 50_000;
    const inner = { verify: jest.fn(async () => verified(100, 40)) };
    const cache = new CachingTokenVerifier(inner, { maxEntries: 10, clock: () => now });
    await cache.verify('token');
    now = 30_000;
    await cache.verify('token');
    expect(inner.verify).toHaveBeenCalledTimes(2);
  });

  it('shares a frozen result, so one handler cannot widen the scopes another request sees', async () => {
    const cache = new CachingTokenVerifier({ verify: async () => verified(100) }, { maxEntries: 10, clock: () => 0 });
    await cache.verify('token');
    const again = await cache.verify('token');
    expect(() => again.scopes.push('admin')).toThrow(TypeError);
    expect((await cache.verify('token')).scopes).toEqual(['read']);
  });

  it('keeps at most maxEntries tokens', async () => {
    const cache = new CachingTokenVerifier({ verify: async () => verified(100) }, { maxEntries: 3, clock: () => 0 });
    for (let i = 0; i < 10; i++) await cache.verify(`token-${i}`);
    expect(cache.size).toBe(3);
  });

  it('serves a cached result only to the very token cached, not to another that ends the same (its cache key)', async () => {
    const signature = 'x'.repeat(43);
    const good = `header.payload.${signature}`;
    const inner = jest.fn(async (token: string) => {
      if (token !== good) throw new Error('invalid signature');
      return verified(100);
    });
    const cache = new CachingTokenVerifier({ verify: inner }, { maxEntries: 10, clock: () => 0 });
    await cache.verify(good);
    const forged = `header.forged-payload.${signature}`;
    expect(cache.verifyCached(forged)).toBeUndefined();
    await expect(cache.verify(forged)).rejects.toThrow('invalid signature');
    // The forgery neither got the cached claims nor evicted them.
    expect(cache.verifyCached(good)).toBeDefined();
    await cache.verify(good);
    expect(inner).toHaveBeenCalledTimes(2);
  });

  it('hands out its own frozen { clientId, scopes, claims }, nothing else the wrapped verifier returned', async () => {
    const cache = new CachingTokenVerifier({ verify: async () => ({ ...verified(100), internal: 'x' }) }, { maxEntries: 10, clock: () => 0 });
    const first = await cache.verify('token');
    expect(Object.keys(first)).toEqual(['clientId', 'scopes', 'claims']);
    expect(Object.isFrozen(first)).toBe(true);
    expect(cache.verifyCached('token')).toBe(first);
  });
});
