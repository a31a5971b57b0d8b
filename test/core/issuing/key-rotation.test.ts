// Signing key rotation: the new key signs at once, the old one stays published until its tokens expired (scheduled rotation: scheduled-rotation.test.ts).
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
