// Scheduled signing key rotation with publish-ahead: a year of rotations seen by a JWKS-caching resource server, two instances on one database, the timer.
import { createPublicKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { createOAuth, DEFAULTS } from '../../../lib';
import { type AuditEvent } from '../../../lib/core';
import { StoreError } from '../../../lib/store';
import type { AuthorizationServer } from '../../../lib/core/issuing/authorization-server';
import { verifyAccessToken } from '../../../lib/core/tokens/jwt';
import { SIGNING_ALGORITHMS, type PublicJwk } from '../../../lib/core/tokens/keys';
import type { Client } from '../../../lib/core/model/client';
import { buildApp, fakeClock, ISSUER, memoryLogger, type TestApp } from '../../helpers';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const kidOf = (token: string) => jwt.decode(token, { complete: true })?.header.kid as string;

/**
 * A resource server that caches the issuer's JWKS: its view of the keys is what `publicJwks()` said
 * at its last refresh, refreshed only once `cacheMs` have passed (never on an unknown kid: the
 * strictest cache; jose's createRemoteJWKSet with a long cooldown behaves so).
 */
class CachingGuard {
  private keys = new Map<string, { alg: PublicJwk['alg']; publicKey: KeyObject }>();
  private fetchedAt = -Infinity;

  constructor(
    private readonly server: AuthorizationServer,
    private readonly cacheMs: number,
    private readonly now: () => number,
  ) {}

  async accepts(token: string): Promise<boolean> {
    if (this.now() - this.fetchedAt >= this.cacheMs) {
      const jwks = await this.server.keys.publicJwks();
      this.keys = new Map(jwks.map((jwk) => [jwk.kid, { alg: jwk.alg, publicKey: createPublicKey({ key: { ...jwk }, format: 'jwk' }) }]));
      this.fetchedAt = this.now();
    }
    try {
      await verifyAccessToken(token, (kid) => this.keys.get(kid), {
        issuer: ISSUER,
        audience: [ISSUER],
        algorithms: SIGNING_ALGORITHMS,
        clockTolerance: 5,
        clock: this.now,
      });
      return true;
    } catch {
      return false;
    }
  }
}

describe('scheduled key rotation publishes the next key before it signs', () => {
  let t: TestApp;
  let clock: ReturnType<typeof fakeClock>;
  afterEach(() => t?.close());

  it('over a year of 30-day rotations, a resource server caching the JWKS for 10 minutes never refuses a valid token and never accepts one signed by a retired key (RFC 7517 §4.5)', async () => {
    clock = fakeClock();
    const CACHE = 10 * MINUTE;
    t = await buildApp({
      clock: clock.now,
      keyRotationDays: 30,
      keyPublishAhead: CACHE / 1000,
      accessTokenLifetime: 3600,
      signingAlgorithm: 'ES256',
    });
    // The test calls the schedule's check() itself, in step with the fake clock.
    t.oauth.server.rotationSchedule?.stop();
    const server = t.oauth.server;
    const schedule = server.rotationSchedule;
    if (!schedule) throw new Error('no schedule');
    const { client } = await t.createClient('read');
    const issue = async () => (await server.issueToken(client as Client, { grant_type: 'client_credentials' })).access_token;
    const guard = new CachingGuard(server, CACHE, clock.now);
    const lifetimeMs = 3600_000;
    const toleranceMs = 5_000;

    const privateHalves = new Map<string, string>();
    const retireAtOf = new Map<string, number>();
    const forgedChecked = new Set<string>();
    const activations: { kid: string; at: number }[] = [];
    const published = new Map<string, number>();
    const failures: string[] = [];
    /** Tokens to check at the last instant they are valid: the last one each key signed. */
    const appointments: { at: number; token: string }[] = [];
    let live: { token: string; expiresAt: number }[] = [];
    let previousToken: string | undefined;
    const end = clock.now() + 365 * DAY;
    let steps = 0;

    await issue();
    while (clock.now() < end) {
      steps++;
      if (steps > 20_000) throw new Error('the simulation did not end');
      await schedule.check();
      const keys = await server.store.listSigningKeys(clock.now());
      for (const key of keys) {
        // Captured while the key may sign (next or active): what a thief of a database copy would hold.
        if (key.privateKeyPem !== null) privateHalves.set(key.kid, key.privateKeyPem);
        if (!key.active && key.retireAt === null && !published.has(key.kid)) published.set(key.kid, clock.now());
        if (!key.active && key.retireAt !== null) {
          retireAtOf.set(key.kid, key.retireAt);
          // The private half goes as soon as the key stops signing.
          if (key.privateKeyPem !== null) failures.push(`${key.kid} kept its private half after it stopped signing`);
        }
      }

      const token = await issue();
      const kid = kidOf(token);
      if (activations.at(-1)?.kid !== kid) {
        activations.push({ kid, at: clock.now() });
        if (previousToken) {
          const exp = (jwt.decode(previousToken) as { exp: number }).exp * 1000;
          appointments.push({ at: exp + toleranceMs - 1000, token: previousToken });
        }
      }
      previousToken = token;
      live.push({ token, expiresAt: clock.now() + lifetimeMs });
      live = live.filter((l) => l.expiresAt + toleranceMs > clock.now());
      // Publish before use: the newest token's key is known to a cache that may be 10 minutes old.
      if (!(await guard.accepts(token))) failures.push(`new token of ${kid} refused at ${new Date(clock.now()).toISOString()}`);
      const oldest = live[0];
      if (oldest && !(await guard.accepts(oldest.token))) {
        failures.push(`live token of ${kidOf(oldest.token)} refused at ${new Date(clock.now()).toISOString()}`);
      }
      const due = appointments.filter((a) => a.at <= clock.now());
      for (const a of due) {
        if (!(await guard.accepts(a.token))) failures.push(`last token of ${kidOf(a.token)} refused just before it expired`);
      }
      appointments.splice(0, appointments.length, ...appointments.filter((a) => a.at > clock.now()));

      // A retired key verifies nothing: not at the issuer from its retireAt, not at the guard once its cache refreshed.
      for (const [retired, retireAt] of retireAtOf) {
        if (forgedChecked.has(retired) || clock.now() < retireAt + CACHE) continue;
        forgedChecked.add(retired);
        const pem = privateHalves.get(retired);
        if (!pem) {
          failures.push(`never saw the private half of ${retired}`);
          continue;
        }
        const forged = jwt.sign(
          { iss: ISSUER, sub: client.id, client_id: client.id, aud: ISSUER, scope: 'read', jti: `forged-${retired}`, iat: Math.floor(clock.now() / 1000) },
          pem,
          { algorithm: 'ES256', keyid: retired, header: { alg: 'ES256', typ: 'at+jwt' }, expiresIn: 3600 },
        );
        if (await guard.accepts(forged)) failures.push(`the guard accepted a token signed by retired key ${retired}`);
        const atIssuer = await server.verifyAccessToken(forged, { audience: [ISSUER] }).then(() => true, () => false);
        if (atIssuer) failures.push(`the issuer accepted a token signed by retired key ${retired}`);
      }

      // Fine steps while anything is moving (a next key, a retiring key, a rotation within three hours), coarse otherwise.
      const state = await server.keys.rotationState();
      const busy =
        state.next !== undefined ||
        keys.some((k) => k.retireAt !== null) ||
        (state.active !== undefined && state.active.since + 30 * DAY - clock.now() < 3 * HOUR);
      const nextTime = Math.min(clock.now() + (busy ? MINUTE : 2 * HOUR), ...appointments.map((a) => a.at));
      clock.set(nextTime);
    }

    expect(failures).toEqual([]);
    // Twelve rotations in a year, each key signing about 30 days, each published at least the cache time before it signed.
    expect(activations.length).toBeGreaterThanOrEqual(13);
    for (let i = 1; i < activations.length; i++) {
      const { kid, at } = activations[i] as { kid: string; at: number };
      const gap = at - (activations[i - 1] as { at: number }).at;
      expect(gap).toBeGreaterThanOrEqual(30 * DAY - MINUTE);
      expect(gap).toBeLessThanOrEqual(30 * DAY + 2 * MINUTE);
      expect(at - (published.get(kid) as number)).toBeGreaterThanOrEqual(CACHE);
    }
    // Every retired key was tried, and nothing but the active key and at most one retiring or next key is kept.
    expect(forgedChecked.size).toBeGreaterThanOrEqual(activations.length - 2);
    expect((await server.store.listSigningKeys(clock.now())).length).toBeLessThanOrEqual(2);
  }, 120_000);

  it('with two instances on one SQLite file whose schedules are due at once, one publishes and one rotates; the other follows through the store', async () => {
    clock = fakeClock();
    t = await buildApp({ clock: clock.now, keyRotationDays: 30, keyPublishAhead: 600, signingAlgorithm: 'ES256' });
    const other = createOAuth({
      issuer: ISSUER, database: t.database, bcryptCost: 4, logger: memoryLogger(), clock: clock.now,
      keyRotationDays: 30, keyPublishAhead: 600, signingAlgorithm: 'ES256',
    });
    try {
      const events: AuditEvent[] = [];
      for (const oauth of [t.oauth, other]) {
        oauth.server.rotationSchedule?.stop();
        oauth.events.on('audit', (e: AuditEvent) => {
          if (e.type.startsWith('key.')) events.push(e);
        });
      }
      const { id, secret } = await t.createClient('read');
      const first = kidOf(await t.tokenFor(id, secret));
      const schedules = [t.oauth.server.rotationSchedule, other.server.rotationSchedule];
      const checkBoth = () => Promise.all(schedules.map((s) => s?.check()));

      // Not yet: the next key is published keyPublishAhead before the period ends.
      clock.advance(30 * DAY - 600_000 - 1);
      await checkBoth();
      expect(await t.oauth.server.store.listSigningKeys(clock.now())).toHaveLength(1);

      clock.advance(1);
      await checkBoth();
      const published = events.filter((e) => e.type === 'key.published') as AuditEvent<'key.published'>[];
      expect(published).toHaveLength(1);
      const next = published[0] as AuditEvent<'key.published'>;
      expect(next.activateAt).toBe(clock.now() + 600_000 + 500);
      // Both instances publish it (whichever did not write it, once its change feed polled), and neither signs with it yet.
      for (const oauth of [t.oauth, other]) {
        await oauth.server.changes.poll();
        expect((await oauth.server.keys.publicJwks()).map((k) => k.kid)).toEqual([first, next.kid]);
      }
      expect(kidOf(await t.tokenFor(id, secret))).toBe(first);

      // At activateAt both sign with it, before any promotion in the store.
      clock.set(next.activateAt);
      const client = (await other.server.findClient(id)) as Client;
      expect(kidOf((await other.server.issueToken(client, { grant_type: 'client_credentials' })).access_token)).toBe(next.kid);
      await other.server.promoteNextSigningKey();
      await checkBoth();
      const rotated = events.filter((e) => e.type === 'key.rotated');
      expect(rotated).toEqual([expect.objectContaining({ kid: next.kid, previousKid: first })]);
      const keys = await t.oauth.server.store.listSigningKeys(clock.now());
      expect(keys.map((k) => [k.kid, k.active, k.privateKeyPem === null])).toEqual([
        [next.kid, true, false],
        [first, false, true],
      ]);
      // Published until its tokens expired, plus the JWKS cache time: lifetime + tolerance + keyPublishAhead.
      expect(keys[1]?.retireAt).toBe(clock.now() + (3600 + 5 + 600) * 1000);
      expect(kidOf(await t.tokenFor(id, secret))).toBe(next.kid);
      for (const oauth of [t.oauth, other]) {
        await oauth.server.changes.poll();
        expect(await oauth.server.keys.rotationState()).toEqual({ active: { kid: next.kid, since: next.activateAt }, next: undefined });
        expect((await oauth.server.keys.publicJwks()).map((k) => k.kid)).toEqual([next.kid, first]);
      }
    } finally {
      await other.close();
    }
  });

  it('publishes and rotates through its own timer, at most an hour apart and at the instants due (fake timers)', async () => {
    clock = fakeClock();
    // Only the timers are fake; the store and key generation run for real.
    jest.useFakeTimers({ doNotFake: ['Date', 'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate'] });
    try {
      t = await buildApp({ clock: clock.now, keyRotationDays: 30, keyPublishAhead: 600, syncInterval: 60_000, signingAlgorithm: 'ES256' });
      const { id, secret } = await t.createClient('read');
      const first = kidOf(await t.tokenFor(id, secret));
      const events: AuditEvent[] = [];
      t.oauth.events.on('audit', (e: AuditEvent) => {
        if (e.type.startsWith('key.')) events.push(e);
      });
      const tick = async (ms: number) => {
        clock.advance(ms);
        await jest.advanceTimersByTimeAsync(ms);
      };
      const next = (type: string) => new Promise<void>((resolve) => t.oauth.events.once(type, () => resolve()));

      // A day before the key is due, an hour of ticks publishes nothing.
      clock.advance(29 * DAY);
      await tick(HOUR);
      expect(events).toEqual([]);

      // Once it is due, the next tick within the hour publishes, with no call from the test.
      clock.advance(DAY - HOUR);
      const publishedEvent = next('key.published');
      await tick(HOUR);
      await publishedEvent;
      expect(events).toEqual([expect.objectContaining({ type: 'key.published', scheduled: true })]);
      const { kid, activateAt } = events[0] as AuditEvent<'key.published'>;
      expect(kidOf(await t.tokenFor(id, secret))).toBe(first);

      // The timer wakes at activateAt (not an hour later) and promotes it.
      const rotatedEvent = next('key.rotated');
      await tick(activateAt - clock.now());
      await rotatedEvent;
      expect(events[1]).toEqual(expect.objectContaining({ type: 'key.rotated', kid, previousKid: first, scheduled: true }));
      expect(kidOf(await t.tokenFor(id, secret))).toBe(kid);
    } finally {
      await t.close();
      jest.useRealTimers();
    }
  });

  it('keeps signing with the due next key when the store refuses the promotion, and asks (and logs) at most once a minute', async () => {
    clock = fakeClock();
    const logger = memoryLogger();
    t = await buildApp({ clock: clock.now, logger, signingAlgorithm: 'ES256' });
    const server = t.oauth.server;
    const { client } = await t.createClient('read');
    const issue = async () => kidOf((await server.issueToken(client as Client, { grant_type: 'client_credentials' })).access_token);
    await issue();
    const next = await server.publishNextSigningKey(clock.now() + 600_000);
    const promote = jest.spyOn(server.store, 'promoteNextSigningKey').mockRejectedValue(new StoreError('readonly', 'the database is read-only'));
    clock.advance(600_000);
    for (let i = 0; i < 5; i++) expect(await issue()).toBe(next?.kid);
    await new Promise((resolve) => setImmediate(resolve));
    expect(promote).toHaveBeenCalledTimes(1);
    expect(logger.lines).toEqual(['error could not make the next signing key active']);
    clock.advance(60_000);
    expect(await issue()).toBe(next?.kid);
    expect(promote).toHaveBeenCalledTimes(2);
  });

  it('publishes ahead by default as long as the remote guard caches the JWKS (keyPublishAhead = jwksRefreshInterval)', async () => {
    t = await buildApp({ keyRotationDays: 30 });
    expect(t.oauth.server.options.keyPublishAhead * 1000).toBe(DEFAULTS.jwksRefreshInterval);
  });

  it('refuses a keyPublishAhead out of range or not shorter than keyRotationDays at construction', async () => {
    t = await buildApp();
    const store = t.oauth.server.store;
    expect(() => createOAuth({ issuer: ISSUER, store, keyPublishAhead: -1 })).toThrow(
      new TypeError('keyPublishAhead must be an integer from 0 to 604800'),
    );
    expect(() => createOAuth({ issuer: ISSUER, store, keyRotationDays: 1, keyPublishAhead: 86_400 })).toThrow(
      new TypeError('keyPublishAhead must be shorter than keyRotationDays'),
    );
  });
});
