// Remembered secret verifications: returning clients skip bcrypt, and any rotation, disabling or deletion (here or in another process) ends that at once.
import crypto from 'node:crypto';
import { inspect } from 'node:util';
import bcrypt from 'bcrypt';
import request from 'supertest';
import { ClientRegistry } from '../../../lib/core';
import { SqliteStore } from '../../../lib/store/sqlite';
import { SecretMemory } from '../../../lib/core/client-auth/secret-memory';
import { buildApp, fakeClock, type TestApp } from '../../helpers';

let t: TestApp;
let compare: jest.SpyInstance;
beforeEach(async () => {
  t = await buildApp();
  compare = jest.spyOn(bcrypt, 'compare');
});
afterEach(async () => {
  compare.mockRestore();
  await t.close();
});

function tokenRequest(id: string, secret: string) {
  return request(t.app).post('/oauth/token').auth(id, secret).type('form').send({ grant_type: 'client_credentials' });
}

const INVALID_CLIENT = { error: 'invalid_client', error_description: 'client authentication failed' };

/** A second store object on the same database file: what the CLI or another instance would be. */
function otherProcess(): { registry: ClientRegistry; close: () => Promise<void> } {
  const store = SqliteStore.open(t.database);
  return { registry: new ClientRegistry(store, { bcryptCost: 4, clock: Date.now }), close: () => store.close() };
}

describe('remembered secret verification', () => {
  it('runs bcrypt once for a returning client and not again while nothing changed', async () => {
    const { id, secret } = await t.createClient();
    expect((await tokenRequest(id, secret)).status).toBe(200);
    expect(compare).toHaveBeenCalledTimes(1);
    expect((await tokenRequest(id, secret)).status).toBe(200);
    expect((await tokenRequest(id, secret)).status).toBe(200);
    expect(compare).toHaveBeenCalledTimes(1);
  });

  it('still runs bcrypt for a wrong secret of a remembered client (RFC 6749 §2.3.1)', async () => {
    const { id, secret } = await t.createClient();
    await tokenRequest(id, secret);
    const res = await tokenRequest(id, `${secret}x`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual(INVALID_CLIENT);
    expect(compare).toHaveBeenCalledTimes(2);
  });

  it('refuses the old secret at once after a rotation through this process', async () => {
    const { id, secret } = await t.createClient();
    expect((await tokenRequest(id, secret)).status).toBe(200);
    const { clientSecret } = await t.oauth.registry.rotateSecret(id);
    const res = await tokenRequest(id, secret);
    expect(res.status).toBe(401);
    expect(res.body).toEqual(INVALID_CLIENT);
    expect((await tokenRequest(id, clientSecret)).status).toBe(200);
  });

  it('keeps honouring the old secret during a rotation grace period, after checking it with bcrypt again', async () => {
    const { id, secret } = await t.createClient();
    await tokenRequest(id, secret);
    await t.oauth.registry.rotateSecret(id, { graceSeconds: 600 });
    const calls = compare.mock.calls.length;
    expect((await tokenRequest(id, secret)).status).toBe(200);
    expect(compare.mock.calls.length).toBeGreaterThan(calls);
  });

  it('stops counting a remembered secret at once when the client is disabled through this process', async () => {
    const { id, secret } = await t.createClient();
    await tokenRequest(id, secret);
    await t.oauth.registry.setEnabled(id, false);
    const res = await tokenRequest(id, secret);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'unauthorized_client', error_description: 'the client is disabled' });
    expect(compare).toHaveBeenCalledTimes(2);
  });

  it('refuses a deleted client at once', async () => {
    const { id, secret } = await t.createClient();
    await tokenRequest(id, secret);
    await t.oauth.registry.delete(id);
    const res = await tokenRequest(id, secret);
    expect(res.status).toBe(401);
    expect(res.body).toEqual(INVALID_CLIENT);
  });

  it('refuses the old secret on the next request after a rotation by another process', async () => {
    const { id, secret } = await t.createClient();
    await tokenRequest(id, secret);
    const other = otherProcess();
    try {
      await other.registry.rotateSecret(id);
    } finally {
      await other.close();
    }
    const res = await tokenRequest(id, secret);
    expect(res.status).toBe(401);
    expect(res.body).toEqual(INVALID_CLIENT);
  });

  it('stops counting a remembered secret on the next request after another process disables or deletes the client', async () => {
    const a = await t.createClient();
    const b = await t.createClient();
    await tokenRequest(a.id, a.secret);
    await tokenRequest(b.id, b.secret);
    const other = otherProcess();
    try {
      await other.registry.setEnabled(a.id, false);
      await other.registry.delete(b.id);
    } finally {
      await other.close();
    }
    expect((await tokenRequest(a.id, a.secret)).body).toEqual({ error: 'unauthorized_client', error_description: 'the client is disabled' });
    expect((await tokenRequest(b.id, b.secret)).body).toEqual(INVALID_CLIENT);
  });

  it('keeps only a keyed hash, never the secret', () => {
    const memory = new SecretMemory(10, 60_000, Date.now);
    memory.remember({ clientId: 'client-1', secret: 'the-secret-value' }, '$2b$04$hash', 1);
    expect(inspect(memory, { depth: Infinity, showHidden: true })).not.toContain('the-secret-value');
    expect(memory.recalls({ clientId: 'client-1', secret: 'the-secret-value' }, { version: 1, enabled: true, acceptedHashes: ['$2b$04$hash'] })).toBe(true);
  });

  it('forgets a verification once it is older than its maximum age', () => {
    const clock = fakeClock();
    const memory = new SecretMemory(10, 60_000, clock.now);
    const state = { version: 1, enabled: true, acceptedHashes: ['$2b$04$hash'] };
    memory.remember({ clientId: 'client-1', secret: 'secret' }, '$2b$04$hash', 1);
    clock.advance(59_999);
    expect(memory.recalls({ clientId: 'client-1', secret: 'secret' }, state)).toBe(true);
    clock.advance(1);
    expect(memory.recalls({ clientId: 'client-1', secret: 'secret' }, state)).toBe(false);
  });

  it('holds at most its configured number of verifications, least recently used going first', () => {
    const memory = new SecretMemory(2, 60_000, Date.now);
    const state = { version: 1, enabled: true, acceptedHashes: ['h'] };
    memory.remember({ clientId: 'a', secret: 's' }, 'h', 1);
    memory.remember({ clientId: 'b', secret: 's' }, 'h', 1);
    expect(memory.recalls({ clientId: 'a', secret: 's' }, state)).toBe(true);
    memory.remember({ clientId: 'c', secret: 's' }, 'h', 1);
    expect(memory.size).toBe(2);
    expect(memory.recalls({ clientId: 'b', secret: 's' }, state)).toBe(false);
    expect(memory.recalls({ clientId: 'a', secret: 's' }, state)).toBe(true);
  });

  it('hashes a returning client\'s secret once per token request, for the pre-check and the check together', async () => {
    const { id, secret } = await t.createClient();
    expect((await tokenRequest(id, secret)).status).toBe(200);
    const hashes = jest.spyOn(crypto, 'hash');
    try {
      expect((await tokenRequest(id, secret)).status).toBe(200);
      const ofSecret = hashes.mock.calls.filter(([, data]) => typeof data === 'string' && data.endsWith(`\0${id}\0${secret}`));
      expect(ofSecret).toHaveLength(1);
      expect(compare).toHaveBeenCalledTimes(1);
    } finally {
      hashes.mockRestore();
    }
  });

  it('runs bcrypt every time when verifiedSecretCacheSize is 0', async () => {
    await t.close();
    t = await buildApp({ verifiedSecretCacheSize: 0 });
    const { id, secret } = await t.createClient();
    await tokenRequest(id, secret);
    await tokenRequest(id, secret);
    expect(compare).toHaveBeenCalledTimes(2);
  });
});

describe('authentication gate and remembered secrets', () => {
  it('lets a remembered client through while bcrypt holds every slot of the gate and its queue is full', async () => {
    await t.close();
    t = await buildApp({ maxConcurrentAuthentications: 1, maxQueuedAuthentications: 0 });
    const returning = await t.createClient();
    const other = await t.createClient();
    expect((await tokenRequest(returning.id, returning.secret)).status).toBe(200);

    let release: (ok: boolean) => void = () => undefined;
    let reached: () => void = () => undefined;
    const inBcrypt = new Promise<void>((resolve) => (reached = resolve));
    compare.mockImplementationOnce(() => {
      reached();
      return new Promise<boolean>((resolve) => (release = resolve));
    });
    const stuck = tokenRequest(other.id, 'a-wrong-secret').then((res) => res);
    await inBcrypt;

    expect((await tokenRequest(returning.id, returning.secret)).status).toBe(200);
    release(false);
    expect((await stuck).status).toBe(401);
  });
});
