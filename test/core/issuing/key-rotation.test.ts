// Signing key rotation: the new key signs at once, the old one stays published until its tokens expired, scheduled rotation rotates once.
import request from 'supertest';
import jwt from 'jsonwebtoken';
import { createOAuth, type AuditEvent } from '../../../lib';
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
});
