// Signing key rotation: the new key signs at once, the old one stays published until its tokens expired, scheduled rotation rotates once.
import request from 'supertest';
import jwt from 'jsonwebtoken';
import { createOAuth } from '../../../lib';
import { type AuditEvent } from '../../../lib/core';
import { buildApp, fakeClock, ISSUER, memoryLogger, type TestApp } from '../../helpers';

let t: TestApp;
let clock: ReturnType<typeof fakeClock>;
beforeEach(async () => {
  clock = fakeClock();
  t = await buildApp({ clock: clock.now, keyRotationDays: 30 });
});
afterEach(() => t.close());

const kidOf = (token: string) => jwt.decode(token, { complete: true })?.header.kid as string;
const publishedKids = async () => (await request(t.app).get('/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);

describe('key rotation', () => {
  it('signs new tokens with the new key while old tokens keep working until they expire', async () => {
    const { id, secret } = await t.createClient('read');
    const before = await t.tokenFor(id, secret);
    const events: AuditEvent[] = [];
    t.oauth.events.on('key.rotated', (e: AuditEvent) => events.push(e));
    const { kid, previousKid } = await t.oauth.server.rotateSigningKey();
    const after = await t.tokenFor(id, secret);
    expect(kidOf(before)).toBe(previousKid);
    expect(kidOf(after)).toBe(kid);
    expect(await publishedKids()).toEqual([kid, previousKid]);
    expect((await request(t.app).get('/api/items').auth(before, { type: 'bearer' })).status).toBe(200);
    expect((await request(t.app).get('/api/items').auth(after, { type: 'bearer' })).status).toBe(200);
    const retireAt = clock.now() + (3600 + 5) * 1000;
    expect(events).toEqual([{ type: 'key.rotated', time: clock.now(), kid, previousKid, previousRetireAt: retireAt, scheduled: false }]);

    clock.set(retireAt - 1);
    expect(await publishedKids()).toEqual([kid, previousKid]);
    clock.set(retireAt);
    expect(await publishedKids()).toEqual([kid]);
    expect((await t.oauth.server.store.listSigningKeys(clock.now())).map((k) => k.kid)).toEqual([kid]);
  });

  it('rotates once the active key is keyRotationDays old, and only once when the schedules of two instances check together', async () => {
    const { id, secret } = await t.createClient('read');
    const first = kidOf(await t.tokenFor(id, secret));
    const other = createOAuth({ issuer: ISSUER, database: t.database, bcryptCost: 4, logger: memoryLogger(), clock: clock.now, keyRotationDays: 30 });
    try {
      const schedules = [t.oauth.server.rotationSchedule, other.server.rotationSchedule];
      clock.advance(29 * 86_400_000);
      await Promise.all(schedules.map((s) => s?.check()));
      expect(kidOf(await t.tokenFor(id, secret))).toBe(first);
      clock.advance(86_400_000);
      await Promise.all(schedules.map((s) => s?.check()));
      const keys = await t.oauth.server.store.listSigningKeys(clock.now());
      expect(keys).toHaveLength(2);
      expect(keys[1]?.kid).toBe(first);
      expect(kidOf(await t.tokenFor(id, secret))).toBe(keys[0]?.kid);
    } finally {
      await other.close();
    }
  });

  it('rotates through its own timer, which looks at the key at least hourly, once the key is keyRotationDays old (fake timers)', async () => {
    await t.close();
    // Only the interval timers are fake; the store, key generation and HTTP run for real.
    jest.useFakeTimers({ doNotFake: ['Date', 'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate'] });
    try {
      // The change poll would otherwise run every 500 ms of faked time.
      t = await buildApp({ clock: clock.now, keyRotationDays: 30, syncInterval: 3_600_000, signingAlgorithm: 'ES256' });
      const { id, secret } = await t.createClient('read');
      const first = kidOf(await t.tokenFor(id, secret));
      const events: AuditEvent<'key.rotated'>[] = [];
      t.oauth.events.on('key.rotated', (e: AuditEvent<'key.rotated'>) => events.push(e));
      const HOUR = 3_600_000;

      // A day before the key is due, an hour of timer ticks rotates nothing.
      clock.advance(29 * 86_400_000);
      await jest.advanceTimersByTimeAsync(HOUR);
      expect((await t.oauth.server.store.listSigningKeys(clock.now())).map((k) => k.kid)).toEqual([first]);

      // Once it is due, the next tick within the hour rotates, with no call from the test.
      clock.advance(86_400_000);
      const rotated = new Promise<void>((resolve) => t.oauth.events.once('key.rotated', () => resolve()));
      await jest.advanceTimersByTimeAsync(HOUR);
      await rotated;
      expect(events).toEqual([expect.objectContaining({ type: 'key.rotated', previousKid: first, scheduled: true })]);
      const keys = await t.oauth.server.store.listSigningKeys(clock.now());
      expect(keys.map((k) => k.kid)).toEqual([events[0]?.kid, first]);
      expect(kidOf(await t.tokenFor(id, secret))).toBe(events[0]?.kid);
    } finally {
      jest.useRealTimers();
    }
  });

  it('refuses a keyRotationDays that is not a whole number of days at construction', () => {
    expect(() => createOAuth({ issuer: ISSUER, store: t.oauth.server.store, keyRotationDays: 0.5 })).toThrow(
      new TypeError('keyRotationDays must be an integer from 1 to 3650'),
    );
  });

  describe('a retired signing key verifies nothing', () => {
    const get = (token: string) => request(t.app).get('/api/items').auth(token, { type: 'bearer' });

    it('refuses a token signed with a key past its retireAt, though no reload happened (RFC 7517 §4.5: a key that left the JWKS is not trusted)', async () => {
      const { id, secret } = await t.createClient('read');
      const before = await t.tokenFor(id, secret);
      const [old] = await t.oauth.server.store.listSigningKeys(clock.now());
      await t.oauth.server.rotateSigningKey();
      expect((await get(before)).status).toBe(200);
      clock.advance(2 * 3600 * 1000);
      // signing_keys is not touched again: nothing tells this process to reload.
      const forged = jwt.sign(
        { iss: ISSUER, sub: id, client_id: id, aud: ISSUER, scope: 'read', jti: 'forged-1', iat: Math.floor(clock.now() / 1000) },
        old?.privateKeyPem as string,
        { algorithm: 'RS256', keyid: old?.kid as string, header: { alg: 'RS256', typ: 'at+jwt' }, expiresIn: 600 },
      );
      const res = await get(forged);
      expect(res.status).toBe(401);
      expect(await publishedKids()).not.toContain(old?.kid);
    });

    it('stops a token cached by the guard once its key retires (a cache never outlives the key)', async () => {
      const { id, secret } = await t.createClient('read');
      await t.tokenFor(id, secret);
      const [old] = await t.oauth.server.store.listSigningKeys(clock.now());
      const { previousKid } = await t.oauth.server.rotateSigningKey();
      expect(previousKid).toBe(old?.kid);
      // A long-lived token signed with the stolen key, shown while the key was still trusted, lands in the cache.
      const forged = jwt.sign(
        { iss: ISSUER, sub: id, client_id: id, aud: ISSUER, scope: 'read', jti: 'forged-2', iat: Math.floor(clock.now() / 1000) },
        old?.privateKeyPem as string,
        { algorithm: 'RS256', keyid: old?.kid as string, header: { alg: 'RS256', typ: 'at+jwt' }, expiresIn: 86_400 },
      );
      expect((await get(forged)).status).toBe(200);
      clock.advance((3600 + 5) * 1000);
      expect((await get(forged)).status).toBe(401);
    });
  });
});

describe('retiring a signing key at once', () => {
  it('retireSigningKey: the active key is replaced, then verifies nothing, and key.retired is recorded', async () => {
    const { id, secret } = await t.createClient('read');
    const token = await t.tokenFor(id, secret);
    const kid = kidOf(token);
    const events: AuditEvent[] = [];
    t.oauth.events.on('audit', (e: AuditEvent) => events.push(e));
    expect(await t.oauth.server.retireSigningKey(kid)).toBe(true);
    expect((await request(t.app).get('/api/items').auth(token, { type: 'bearer' })).status).toBe(401);
    expect(await publishedKids()).not.toContain(kid);
    const fresh = await t.tokenFor(id, secret);
    expect(kidOf(fresh)).not.toBe(kid);
    expect((await request(t.app).get('/api/items').auth(fresh, { type: 'bearer' })).status).toBe(200);
    expect(events.map((e) => e.type)).toEqual(['key.rotated', 'key.retired', 'token.issued']);
    expect(await t.oauth.server.retireSigningKey(kid)).toBe(false);
  });
});
