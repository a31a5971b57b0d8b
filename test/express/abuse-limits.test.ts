// Abuse resistance of the token endpoint: failure limits, the bounded bcrypt gate, TLS and size limits, each with its RFC error.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import bcrypt from 'bcrypt';
import request from 'supertest';
import { resolveOptions } from '../../lib/options';
import type { AuditEvent } from '../../lib/core';
import { buildApp, fakeClock, memoryLogger, type TestApp } from '../helpers';

const GRANT = { grant_type: 'client_credentials' };

let t: TestApp;
afterEach(async () => {
  jest.restoreAllMocks();
  await t.close();
});

/**
 * An app behind one proxy hop (`trust proxy` = 1, as the README says to set it), so X-Forwarded-For
 * names the client and one test can speak from many addresses. The limits run on the fake clock.
 */
async function proxiedApp(options: Parameters<typeof buildApp>[0] = {}, clock = fakeClock()): Promise<TestApp> {
  const app = await buildApp({ clock: clock.now, ...options });
  app.app.set('trust proxy', 1);
  return app;
}

function tokenRequest(app: TestApp, id: string, secret: string, from = '10.0.0.1') {
  return request(app.app).post('/oauth/token').set('X-Forwarded-For', from).auth(id, secret).type('form').send(GRANT);
}

function audit(app: TestApp): AuditEvent[] {
  const events: AuditEvent[] = [];
  app.oauth.events.on('audit', (e: AuditEvent) => events.push(e));
  return events;
}

describe('token endpoint failure limits', () => {
  it('refuses an address with 429 invalid_client and Retry-After after addressFailureLimit failures, without running bcrypt', async () => {
    t = await proxiedApp({ addressFailureLimit: 3, addressFailureWindow: 120, clientFailureLimit: 0 });
    const { id, secret } = await t.createClient();
    const events = audit(t);
    for (let i = 0; i < 3; i++) expect((await tokenRequest(t, `guess-${i}`, 'wrong-secret')).status).toBe(401);
    const compare = jest.spyOn(bcrypt, 'compare');
    const refused = await tokenRequest(t, id, secret);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('120');
    expect(refused.headers['cache-control']).toBe('no-store');
    expect(refused.body).toEqual({
      error: 'invalid_client',
      error_description: 'too many failed client authentications from this address; retry after 120 s',
    });
    expect(compare).not.toHaveBeenCalled();
    expect(events.filter((e) => e.type === 'rate_limit.hit')).toEqual([
      { type: 'rate_limit.hit', time: expect.any(Number), limit: 'address', clientId: id, address: '10.0.0.1', retryAfter: 120 },
    ]);
    expect((await tokenRequest(t, id, secret, '10.0.0.2')).status).toBe(200);
  });

  it('counts the socket address when the app trusts no proxy, whatever X-Forwarded-For claims', async () => {
    t = await buildApp({ addressFailureLimit: 3, addressFailureWindow: 120, clientFailureLimit: 0, refusalDelay: 0 });
    expect(t.app.get('trust proxy')).toBe(false);
    const { id, secret } = await t.createClient();
    const events = audit(t);
    // Each guess claims another address: without trust proxy, all three are the socket's.
    for (let i = 0; i < 3; i++) expect((await tokenRequest(t, `guess-${i}`, 'wrong-secret', `10.1.0.${i}`)).status).toBe(401);
    const refused = await tokenRequest(t, id, secret, '10.1.0.9');
    expect(refused.status).toBe(429);
    const [hit] = events.filter((e) => e.type === 'rate_limit.hit');
    expect(hit).toMatchObject({ limit: 'address', address: expect.stringMatching(/127\.0\.0\.1$/) });
  });

  it('tolerates a dozen fumbled secrets with the default limits, then issues a token for the right one', async () => {
    t = await proxiedApp();
    const { id, secret } = await t.createClient();
    for (let i = 0; i < 12; i++) expect((await tokenRequest(t, id, `fumble-${i}`)).status).toBe(401);
    expect((await tokenRequest(t, id, secret)).status).toBe(200);
  });

  it('backs a hammered client_id off, but keeps serving the real client from the address it authenticated from', async () => {
    const clock = fakeClock();
    t = await proxiedApp({ clientFailureLimit: 5 }, clock);
    const { id, secret } = await t.createClient();
    expect((await tokenRequest(t, id, secret, '10.1.1.1')).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await tokenRequest(t, id, 'wrong-secret', `10.66.0.${i}`)).status).toBe(401);
    const attacker = await tokenRequest(t, id, 'wrong-secret', '10.66.0.99');
    expect(attacker.status).toBe(429);
    expect(attacker.body.error).toBe('invalid_client');
    expect(attacker.headers['retry-after']).toBe('1');
    expect((await tokenRequest(t, id, secret, '10.1.1.1')).status).toBe(200);
  });

  it('runs the back-off on the instance clock option, like the rest of the library', async () => {
    const clock = fakeClock();
    t = await proxiedApp({ clientFailureLimit: 5 }, clock);
    const { id } = await t.createClient();
    for (let i = 0; i < 5; i++) expect((await tokenRequest(t, id, 'wrong-secret', `10.66.0.${i}`)).status).toBe(401);
    expect((await tokenRequest(t, id, 'wrong-secret', '10.66.0.99')).headers['retry-after']).toBe('1');
    clock.advance(999);
    expect((await tokenRequest(t, id, 'wrong-secret', '10.66.0.99')).status).toBe(429);
    clock.advance(1);
    // The 1 s back-off is over on the instance clock: the next guess is compared again (and fails).
    expect((await tokenRequest(t, id, 'wrong-secret', '10.66.0.99')).status).toBe(401);
  });

  it('charges each attempt before its comparison, so concurrent guesses cannot overshoot the address limit', async () => {
    t = await proxiedApp({ addressFailureLimit: 3, addressFailureWindow: 600, clientFailureLimit: 0 });
    await t.createClient();
    const compare = jest.spyOn(bcrypt, 'compare');
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => tokenRequest(t, `guess-${i}`, 'wrong-secret', '10.9.9.9').then((r) => r.status)),
    );
    expect(compare).toHaveBeenCalledTimes(3);
    expect(statuses.filter((s) => s === 401)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(37);
  });

  it('gives the charge back when the client authenticates, so successes never use up a limit', async () => {
    t = await proxiedApp({ addressFailureLimit: 2, clientFailureLimit: 0, verifiedSecretCacheSize: 0 });
    const { id, secret } = await t.createClient();
    for (let i = 0; i < 4; i++) expect((await tokenRequest(t, id, secret, '10.9.9.8')).status).toBe(200);
    expect((await tokenRequest(t, id, 'wrong-secret', '10.9.9.8')).status).toBe(401);
    expect((await tokenRequest(t, id, secret, '10.9.9.8')).status).toBe(200);
    expect((await tokenRequest(t, id, 'wrong-secret', '10.9.9.8')).status).toBe(401);
    expect((await tokenRequest(t, id, secret, '10.9.9.8')).status).toBe(429);
  });

  it('answers 503 temporarily_unavailable with Retry-After at once when every bcrypt slot and the queue are taken', async () => {
    t = await proxiedApp({ maxConcurrentAuthentications: 1, maxQueuedAuthentications: 1 });
    const { id, secret } = await t.createClient();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // The slot and the queue taken by the same address the request comes from: no heavier address to shed (issue 19).
    const from = { address: '10.0.0.1', clientId: 'other' };
    void t.oauth.server.clientAuth.gate.run(() => held, false, from);
    void t.oauth.server.clientAuth.gate.run(() => held, false, from);
    const events = audit(t);
    const res = await tokenRequest(t, id, secret, '10.0.0.1');
    release();
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.body).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'the server is busy authenticating other clients; retry shortly',
    });
    expect(events.map((e) => e.type)).toEqual(['rate_limit.hit']);
    // Load shedding is reported by its event, not logged as an internal error once per refused request.
    expect((t.oauth.server.options.logger as ReturnType<typeof memoryLogger>).lines).toEqual([]);
    expect((await tokenRequest(t, id, secret, '10.0.0.1')).status).toBe(200);
  });
});

describe('token endpoint failure limits behind a shared address', () => {
  it('lets a client whose secret this process already verified through an address its neighbours locked, and no one else', async () => {
    t = await proxiedApp({ addressFailureLimit: 3, addressFailureWindow: 600, clientFailureLimit: 0 });
    const working = await t.createClient('read', 'working');
    const newcomer = await t.createClient('read', 'newcomer');
    expect((await tokenRequest(t, working.id, working.secret, '10.0.0.9')).status).toBe(200);
    // Sibling services behind the same egress address keep sending stale secrets.
    for (let i = 0; i < 3; i++) expect((await tokenRequest(t, `sibling-${i}`, 'stale-secret', '10.0.0.9')).status).toBe(401);
    expect((await tokenRequest(t, 'sibling-3', 'stale-secret', '10.0.0.9')).status).toBe(429);

    expect((await tokenRequest(t, working.id, working.secret, '10.0.0.9')).status).toBe(200);
    const wrong = await tokenRequest(t, working.id, 'not-the-secret', '10.0.0.9');
    expect(wrong.status).toBe(429);
    expect(wrong.body.error).toBe('invalid_client');
    // A valid secret never verified here yet proves nothing without bcrypt, so the address limit holds.
    expect((await tokenRequest(t, newcomer.id, newcomer.secret, '10.0.0.9')).status).toBe(429);
  });
});

describe('token endpoint failure limit keys', () => {
  it('refuses a client_id longer than any generated id with invalid_client before it is counted or compared', async () => {
    t = await proxiedApp({ clientFailureLimit: 1 });
    const compare = jest.spyOn(bcrypt, 'compare');
    const long = 'x'.repeat(7000);
    for (let i = 0; i < 3; i++) {
      const res = await request(t.app)
        .post('/oauth/token')
        .set('X-Forwarded-For', `10.7.0.${i}`)
        .type('form')
        .send({ ...GRANT, client_id: long, client_secret: 'wrong-secret' });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
    }
    expect(compare).not.toHaveBeenCalled();
    expect(t.oauth.server.clientAuth.limiter.keys).toEqual({ address: 0, client: 0 });
  });

  it('warns once that trust proxy = true lets any caller pick its address, and names the fix', async () => {
    t = await buildApp();
    t.app.set('trust proxy', true);
    await tokenRequest(t, 'someone', 'wrong-secret');
    await tokenRequest(t, 'someone', 'wrong-secret');
    const lines = (t.oauth.server.options.logger as ReturnType<typeof memoryLogger>).lines;
    expect(lines).toEqual([
      "warn Express 'trust proxy' is true: any client can choose its address (X-Forwarded-For) and so escape the per-address failure limit; set it to the number of proxies in front of the app",
    ]);
  });
});

/** Waits (bounded) until `ready()` holds: requests reach the gate over real sockets. */
async function until(ready: () => boolean): Promise<void> {
  for (let i = 0; i < 5000 && !ready(); i++) await new Promise((r) => setTimeout(r, 1));
  if (!ready()) throw new Error('the expected state was never reached');
}

/** Makes every bcrypt comparison wait for `release()`, recording which secret each compared and when it started and ended. */
function holdBcrypt() {
  const original = bcrypt.compare.bind(bcrypt) as (data: string, hash: string) => Promise<boolean>;
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const log: string[] = [];
  const secrets: string[] = [];
  jest.spyOn(bcrypt, 'compare').mockImplementation((async (data: string, hash: string) => {
    secrets.push(data);
    log.push('start');
    await held;
    try {
      return await original(data, hash);
    } finally {
      log.push('end');
    }
  }) as never);
  return { release, log, secrets };
}

describe('bcrypt gate and client secrets in a grace period (two stored hashes)', () => {
  it.each([
    ['no queue', { maxConcurrentAuthentications: 1, maxQueuedAuthentications: 0 }],
    ['a queue of 1', { maxConcurrentAuthentications: 1, maxQueuedAuthentications: 1 }],
    ['the default slots', {}],
  ])('compares both hashes within one gate slot, side by side, with %s', async (_case, limits) => {
    t = await buildApp({ ...limits, verifiedSecretCacheSize: 0 });
    const { id, secret: old } = await t.createClient();
    const { clientSecret: fresh } = await t.oauth.registry.rotateSecret(id, { graceSeconds: 3600 });
    const send = (secret: string) => request(t.app).post('/oauth/token').auth(id, secret).type('form').send(GRANT);
    expect((await send(old)).status).toBe(200);
    expect((await send(fresh)).status).toBe(200);

    const bcryptRun = holdBcrypt();
    const wrong = send('wrong-secret').then((r) => r);
    await until(() => bcryptRun.log.length === 2);
    expect(t.oauth.server.clientAuth.gate.running).toBe(1);
    // Both comparisons started before either ended: a wrong secret costs one comparison of wall time.
    expect(bcryptRun.log).toEqual(['start', 'start']);
    bcryptRun.release();
    const res = await wrong;
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
    expect(bcryptRun.log).toEqual(['start', 'start', 'end', 'end']);
  });
});

describe('bcrypt gate lane for returning clients', () => {
  it('serves a client that authenticated from this address before ahead of a wrong-secret flood, with remembered secrets off', async () => {
    t = await proxiedApp({ verifiedSecretCacheSize: 0, maxConcurrentAuthentications: 1, maxQueuedAuthentications: 2 });
    const valid = await t.createClient('read', 'valid');
    const victim = await t.createClient('read', 'victim');
    expect((await tokenRequest(t, valid.id, valid.secret, '10.5.0.1')).status).toBe(200);
    const gate = t.oauth.server.clientAuth.gate;
    const bcryptRun = holdBcrypt();

    // One wrong secret holds the only slot, two more fill the ordinary queue, the rest are refused at once.
    const flood = [tokenRequest(t, victim.id, 'wrong-0', '10.66.0.0').then((r) => r)];
    await until(() => gate.running === 1);
    flood.push(...[1, 2].map((i) => tokenRequest(t, `unknown-${i}`, `wrong-${i}`, `10.66.0.${i}`).then((r) => r)));
    await until(() => gate.waiting === 2);
    const refused = await Promise.all([3, 4, 5].map((i) => tokenRequest(t, victim.id, `wrong-${i}`, `10.66.0.${i}`)));
    expect(refused.map((r) => r.status)).toEqual([503, 503, 503]);

    const mine = tokenRequest(t, valid.id, valid.secret, '10.5.0.1').then((r) => r);
    await until(() => gate.waiting === 3);
    expect((await tokenRequest(t, victim.id, 'wrong-6', '10.66.0.6')).status).toBe(503);
    bcryptRun.release();

    expect((await mine).status).toBe(200);
    expect((await Promise.all(flood)).map((r) => r.status)).toEqual([401, 401, 401]);
    // The returning client's comparison ran right after the one in flight, ahead of the queued guesses.
    expect(bcryptRun.secrets.slice(0, 2)).toEqual(['wrong-0', valid.secret]);
  });
});

describe('token endpoint under a wrong-secret flood', () => {
  let server: Server;
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  it('keeps issuing tokens to a valid client while real and unknown ids are flooded from many addresses', async () => {
    t = await proxiedApp({ bcryptCost: 6, maxConcurrentAuthentications: 1, maxQueuedAuthentications: 4 });
    server = t.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const victim = await t.createClient('read', 'victim');
    const valid = await t.createClient('read', 'valid');
    const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    const post = (auth: string, from: string) =>
      fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from },
        body: 'grant_type=client_credentials',
      });
    expect((await post(basic(valid.id, valid.secret), '10.5.0.1')).status).toBe(200);

    const statuses = new Map<number, number>();
    const validStatuses: number[] = [];
    for (let wave = 0; wave < 8; wave++) {
      const flood = Array.from({ length: 40 }, (_, i) =>
        post(basic(i % 2 ? victim.id : `unknown-${wave}-${i}`, `wrong-${i}`), `10.66.${wave}.${i}`).then((r) => {
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        }),
      );
      const mine = post(basic(valid.id, valid.secret), '10.5.0.1').then((r) => validStatuses.push(r.status));
      await Promise.all([...flood, mine]);
    }
    expect(validStatuses).toEqual(Array(8).fill(200));
    expect(statuses.get(200)).toBeUndefined();
    expect(statuses.get(503)).toBeGreaterThan(0);
    expect([...statuses.keys()].every((s) => [401, 429, 503].includes(s))).toBe(true);
  });
});

describe('token endpoint transport', () => {
  it('refuses a token request not sent over TLS when requireTls is set, saying why', async () => {
    t = await buildApp({ requireTls: true });
    const { id, secret } = await t.createClient();
    const res = await request(t.app).post('/oauth/token').auth(id, secret).type('form').send(GRANT);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description:
        'the token endpoint requires HTTPS (RFC 6749 section 3.2); behind a TLS-terminating proxy, set the Express trust proxy setting so the forwarded protocol is honoured',
    });
  });

  it('accepts X-Forwarded-Proto: https only when Express trusts the proxy', async () => {
    t = await buildApp({ requireTls: true });
    const { id, secret } = await t.createClient();
    const send = () =>
      request(t.app).post('/oauth/token').set('X-Forwarded-Proto', 'https').auth(id, secret).type('form').send(GRANT);
    expect((await send()).status).toBe(400);
    t.app.set('trust proxy', 'loopback');
    expect((await send()).status).toBe(200);
  });

  it('turns requireTls on by default only when NODE_ENV is production', () => {
    expect(resolveOptions({}, { nodeEnv: 'production' }).requireTls).toBe(true);
    expect(resolveOptions({ requireTls: false }, { nodeEnv: 'production' }).requireTls).toBe(false);
    expect(resolveOptions({}, { nodeEnv: 'development' }).requireTls).toBe(false);
    expect(resolveOptions({}).requireTls).toBe(false);
    expect(() => resolveOptions({ requireTls: 'yes' as never })).toThrow(new TypeError('requireTls must be true or false'));
  });
});

describe('request size limits', () => {
  beforeEach(async () => {
    t = await buildApp({ headerLimit: 2048, bodyLimit: 1024 });
  });

  it('refuses headers larger than headerLimit with 431 invalid_request', async () => {
    const res = await request(t.app).post('/oauth/token').set('X-Padding', 'a'.repeat(3000)).type('form').send(GRANT);
    expect(res.status).toBe(431);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'the request headers are larger than 2048 bytes' });
  });

  it('refuses a body larger than bodyLimit with 413 invalid_request', async () => {
    const res = await request(t.app).post('/oauth/token').type('form').send(`grant_type=client_credentials&scope=${'a'.repeat(2000)}`);
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'the request body is too large' });
  });

  it('refuses more than 32 parameters with 413 invalid_request', async () => {
    const body = Array.from({ length: 40 }, (_, i) => `p${i}=1`).join('&');
    const res = await request(t.app).post('/oauth/token').type('form').send(body);
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'the request body has too many parameters' });
  });

  it('refuses a bearer token longer than 8192 characters with 401 invalid_token', async () => {
    const res = await request(t.app).get('/api/items').set('Authorization', `Bearer ${'a'.repeat(8193)}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_token', error_description: 'the access token is too long' });
  });
});

describe('abuse limit options', () => {
  it('throws a TypeError at construction for a misconfigured limit', () => {
    expect(() => resolveOptions({ addressFailureLimit: -1 })).toThrow(new TypeError('addressFailureLimit must be an integer from 0 to 1000000'));
    expect(() => resolveOptions({ clientFailureWindow: 0 })).toThrow(new TypeError('clientFailureWindow must be an integer from 1 to 86400'));
    expect(() => resolveOptions({ maxConcurrentAuthentications: 1.5 })).toThrow(
      new TypeError('maxConcurrentAuthentications must be an integer from 1 to 1024'),
    );
    expect(() => resolveOptions({ headerLimit: 10 })).toThrow(new TypeError('headerLimit must be an integer from 1024 to 1048576'));
  });

  it('defaults to limits that stop guessing but tolerate a dozen fumbles', () => {
    const o = resolveOptions({});
    expect([o.addressFailureLimit, o.addressFailureWindow, o.clientFailureLimit, o.clientFailureWindow, o.clientMaxBackoff]).toEqual([30, 600, 20, 60, 60]);
    // Room for one waiting request per address of a 70-address flood and more (issue 19): the fair queue needs it.
    expect(o.maxQueuedAuthentications).toBe(256);
    expect(o.maxConcurrentAuthentications).toBeGreaterThanOrEqual(1);
  });

  it('refuses a limiterStore whose redis is not an ioredis client, when the instance is created', () => {
    expect(() => resolveOptions({ limiterStore: { redis: {} as never } })).toThrow(new TypeError('limiterStore.redis must be an ioredis client'));
    expect(() => resolveOptions({ limiterStore: { redis: { multi() {}, defineCommand() {} }, timeoutMs: 0 } })).toThrow(TypeError);
    expect(resolveOptions({}).limiterStore).toBeUndefined();
  });
});
