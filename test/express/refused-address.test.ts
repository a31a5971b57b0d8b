// A refused address (issue 16.4): answered 429 before its body is read and before Passport, a remembered secret still let through, refusals held by the tarpit within its bound, and rate_limit.hit events aggregated.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import bcrypt from 'bcrypt';
import request from 'supertest';
import type { AuditEvent } from '../../lib/core';
import { buildApp, fakeClock, type TestApp } from '../helpers';

const GRANT = { grant_type: 'client_credentials' };
const REFUSED = {
  error: 'invalid_client',
  error_description: 'too many failed client authentications from this address; retry after 600 s',
};

let t: TestApp;
let server: http.Server | undefined;
afterEach(async () => {
  jest.restoreAllMocks();
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
  await t.close();
});

/** An app behind one proxy hop, so X-Forwarded-For names the caller; three failures lock an address out for 600 s. */
async function lockedApp(options: Parameters<typeof buildApp>[0] = {}): Promise<TestApp> {
  const app = await buildApp({ addressFailureLimit: 3, addressFailureWindow: 600, clientFailureLimit: 0, refusalDelay: 0, ...options });
  app.app.set('trust proxy', 1);
  return app;
}

function basic(app: TestApp, id: string, secret: string, from: string) {
  return request(app.app).post('/oauth/token').set('X-Forwarded-For', from).auth(id, secret).type('form').send(GRANT);
}

function body(app: TestApp, id: string, secret: string, from: string) {
  return request(app.app).post('/oauth/token').set('X-Forwarded-For', from).type('form').send({ ...GRANT, client_id: id, client_secret: secret });
}

async function lockOut(app: TestApp, from: string): Promise<void> {
  for (let i = 0; i < 3; i++) expect((await basic(app, `guess-${i}`, 'wrong-secret', from)).status).toBe(401);
}

function audit(app: TestApp): AuditEvent[] {
  const events: AuditEvent[] = [];
  app.oauth.events.on('audit', (e: AuditEvent) => events.push(e));
  return events;
}

/** Listens on 127.0.0.1 (no proxy: the socket's address is the caller's). */
async function listen(app: TestApp): Promise<number> {
  server = app.app.listen(0, '127.0.0.1');
  await new Promise((r) => server?.once('listening', r));
  return (server?.address() as AddressInfo).port;
}

/** A token request whose headers are sent and whose body never is; resolves its response. */
function headersOnly(
  port: number,
  authorization: string,
  path = '/oauth/token',
): { response: Promise<http.IncomingMessage & { text: string }>; req: http.ClientRequest } {
  const req = http.request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '200', authorization },
  });
  const response = new Promise<http.IncomingMessage & { text: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(Object.assign(res, { text })));
    });
    req.on('error', reject);
  });
  req.flushHeaders();
  return { response, req };
}

/** The 200 bytes {@link headersOnly} announces. */
const FULL_BODY = 'grant_type=client_credentials&pad='.padEnd(200, 'y');
const basicHeader = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe('token endpoint, refused address (issue 16.4)', () => {
  it('answers a refused address 429 before reading its body, without Passport, the store or bcrypt', async () => {
    t = await buildApp({ addressFailureLimit: 3, addressFailureWindow: 600, clientFailureLimit: 0, refusalDelay: 0, bodyTimeout: 600_000 });
    const { id } = await t.createClient();
    const port = await listen(t);
    for (let i = 0; i < 3; i++) {
      const { response, req } = headersOnly(port, basicHeader(`guess-${i}`, 'wrong-secret'));
      req.end(FULL_BODY);
      expect((await response).statusCode).toBe(401);
    }
    const getClient = jest.spyOn(t.oauth.server.store, 'getClient');
    const compare = jest.spyOn(bcrypt, 'compare');
    // The body is announced (200 bytes) and never sent: only an answer that does not wait for it arrives.
    const { response } = headersOnly(port, basicHeader(id, 'wrong-secret'));
    const res = await response;
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('600');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(res.text)).toEqual(REFUSED);
    expect(getClient).not.toHaveBeenCalled();
    expect(compare).not.toHaveBeenCalled();
  });

  it('sends each refusal with its own Retry-After and body, never cacheable (RFC 6585 §4, RFC 6749 §5.1)', async () => {
    const clock = fakeClock();
    t = await lockedApp({ clock: clock.now });
    await lockOut(t, '10.0.0.7');
    const first = await basic(t, 'someone', 'wrong-secret', '10.0.0.7');
    clock.advance(100_000);
    const later = await basic(t, 'someone', 'wrong-secret', '10.0.0.7');
    const again = await basic(t, 'someone', 'wrong-secret', '10.0.0.7');
    for (const [res, seconds] of [
      [first, 600],
      [later, 500],
      [again, 500],
    ] as const) {
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBe(String(seconds));
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers.pragma).toBe('no-cache');
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.text)));
      expect(res.body).toEqual({ ...REFUSED, error_description: `too many failed client authentications from this address; retry after ${seconds} s` });
    }
  });

  it('answers a refused address 429 before reading its body under an issuer path too (RFC 8414 §3.1)', async () => {
    t = await buildApp({
      issuer: 'https://auth.test/tenant',
      addressFailureLimit: 1,
      addressFailureWindow: 600,
      clientFailureLimit: 0,
      refusalDelay: 0,
      bodyTimeout: 600_000,
    });
    const port = await listen(t);
    const first = headersOnly(port, basicHeader('guess', 'wrong-secret'), '/tenant/oauth/token');
    first.req.end(FULL_BODY);
    expect((await first.response).statusCode).toBe(401);
    const { response } = headersOnly(port, basicHeader('guess', 'wrong-secret'), '/tenant/oauth/token');
    const res = await response;
    expect(res.statusCode).toBe(429);
    expect(JSON.parse(res.text)).toEqual(REFUSED);
  });

  it('answers an exception of the early refusal as the endpoint answers any other: 500 server_error, not cached (RFC 6749 §5.2)', async () => {
    t = await lockedApp();
    await lockOut(t, '10.0.0.6');
    jest.spyOn(t.oauth.server.clientAuth, 'refuseUnlessRemembered').mockImplementation(() => {
      throw new Error('an audit listener failed');
    });
    const res = await basic(t, 'someone', 'wrong-secret', '10.0.0.6');
    expect(res.status).toBe(500);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ error: 'server_error' });
  });

  it('answers an early refusal with the same status, headers and body as a refusal found by the limits after the body', async () => {
    t = await lockedApp();
    await lockOut(t, '10.0.0.1');
    const early = await basic(t, 'someone', 'wrong-secret', '10.0.0.1');
    // The same refusal from the limits themselves (the path an address takes until it is refused in memory).
    jest.spyOn(t.oauth.server.clientAuth, 'refusesAddress').mockReturnValue(undefined);
    const late = await basic(t, 'someone', 'wrong-secret', '10.0.0.1');
    for (const res of [early, late]) {
      expect(res.status).toBe(429);
      expect(res.body).toEqual(REFUSED);
    }
    const headers = (res: request.Response) => ({ ...res.headers, date: undefined, etag: undefined });
    expect(headers(early)).toEqual(headers(late));
  });

  it('still lets a secret this process verified through a refused address, in Basic and in the body (RFC 6749 §2.3.1), and no one else', async () => {
    t = await lockedApp();
    const working = await t.createClient('read', 'working');
    const newcomer = await t.createClient('read', 'newcomer');
    expect((await basic(t, working.id, working.secret, '10.0.0.9')).status).toBe(200);
    await lockOut(t, '10.0.0.9');
    expect((await basic(t, working.id, working.secret, '10.0.0.9')).status).toBe(200);
    expect((await body(t, working.id, working.secret, '10.0.0.9')).status).toBe(200);
    expect((await basic(t, working.id, 'not-the-secret', '10.0.0.9')).status).toBe(429);
    expect((await body(t, working.id, 'not-the-secret', '10.0.0.9')).status).toBe(429);
    expect((await basic(t, newcomer.id, newcomer.secret, '10.0.0.9')).status).toBe(429);
    expect((await body(t, newcomer.id, newcomer.secret, '10.0.0.9')).status).toBe(429);
  });

  it('confirms a remembered secret against the client row: a disabled client is refused at a refused address', async () => {
    t = await lockedApp();
    const working = await t.createClient('read', 'working');
    expect((await basic(t, working.id, working.secret, '10.0.0.9')).status).toBe(200);
    await lockOut(t, '10.0.0.9');
    await t.oauth.registry.setEnabled(working.id, false);
    expect((await basic(t, working.id, working.secret, '10.0.0.9')).status).toBe(429);
  });

  it('never answers 500 to a refused address, whatever the request carries', async () => {
    t = await lockedApp();
    await lockOut(t, '10.0.0.2');
    const from = (r: request.Test) => r.set('X-Forwarded-For', '10.0.0.2');
    const responses = await Promise.all([
      from(request(t.app).post('/oauth/token').set('Authorization', 'Basic !!!').type('form').send(GRANT)),
      from(request(t.app).post('/oauth/token').set('Authorization', 'Bearer abc').type('form').send(GRANT)),
      from(request(t.app).post('/oauth/token').auth('a', 'b').type('form').send({ ...GRANT, client_id: 'a', client_secret: 'b' })),
      from(request(t.app).post('/oauth/token').type('form').send('client_id=a&client_id=b&client_secret=c')),
      from(request(t.app).post('/oauth/token').type('form').send('x='.padEnd(20_000, 'y'))),
      from(request(t.app).post('/oauth/token').type('form').send(GRANT)),
      from(request(t.app).post('/oauth/introspect').auth('a', 'b').type('form').send({ token: 'x' })),
      from(request(t.app).post('/oauth/revoke').type('form').send({ token: 'x', client_id: 'a', client_secret: 'b' })),
    ]);
    for (const res of responses) {
      expect(res.status).toBe(429);
      expect(res.body.error).toBe('invalid_client');
    }
  });

  it('records rate_limit.hit at most once a second per address, the next event counting the refusals left out', async () => {
    const clock = fakeClock();
    t = await lockedApp({ clock: clock.now });
    await lockOut(t, '10.0.0.3');
    const events = audit(t);
    for (let i = 0; i < 5; i++) expect((await basic(t, 'someone', 'wrong-secret', '10.0.0.3')).status).toBe(429);
    expect((await basic(t, 'someone', 'wrong-secret', '10.0.0.4')).status).toBe(401);
    clock.advance(1000);
    expect((await basic(t, 'someone', 'wrong-secret', '10.0.0.3')).status).toBe(429);
    expect(events.filter((e) => e.type === 'rate_limit.hit')).toEqual([
      { type: 'rate_limit.hit', time: expect.any(Number), limit: 'address', clientId: undefined, address: '10.0.0.3', retryAfter: 600 },
      { type: 'rate_limit.hit', time: expect.any(Number), limit: 'address', clientId: undefined, address: '10.0.0.3', retryAfter: 599, suppressed: 4 },
    ]);
  });
});

describe('token endpoint, delayed refusals (refusalDelay)', () => {
  it('holds a refusal until its delay, beyond maxDelayedRefusals answers at once, and sends the held ones when the instance closes', async () => {
    t = await lockedApp({ refusalDelay: 60_000, maxDelayedRefusals: 1 });
    await lockOut(t, '10.0.0.5');
    const tarpit = t.oauth.server.clientAuth.tarpit;
    let heldAnswered = false;
    const held = basic(t, 'someone', 'wrong-secret', '10.0.0.5').then((res) => {
      heldAnswered = true;
      return res;
    });
    for (let i = 0; i < 5000 && tarpit.size === 0; i++) await new Promise((r) => setTimeout(r, 1));
    expect(tarpit.size).toBe(1);
    // The bound is reached: the next refusal is not held.
    const immediate = await basic(t, 'someone', 'wrong-secret', '10.0.0.5');
    expect(immediate.status).toBe(429);
    expect(heldAnswered).toBe(false);
    await t.oauth.close();
    const res = await held;
    expect(res.status).toBe(429);
    expect(res.body).toEqual(REFUSED);
    expect(tarpit.size).toBe(0);
  });

  it('drops a held refusal whose client went away', async () => {
    t = await buildApp({ addressFailureLimit: 1, addressFailureWindow: 600, clientFailureLimit: 0, refusalDelay: 60_000 });
    const port = await listen(t);
    const first = headersOnly(port, basicHeader('guess', 'wrong-secret'));
    first.req.end(FULL_BODY);
    expect((await first.response).statusCode).toBe(401);
    const tarpit = t.oauth.server.clientAuth.tarpit;
    const { req, response } = headersOnly(port, basicHeader('guess', 'wrong-secret'));
    response.catch(() => undefined);
    for (let i = 0; i < 5000 && tarpit.size === 0; i++) await new Promise((r) => setTimeout(r, 1));
    expect(tarpit.size).toBe(1);
    req.destroy();
    for (let i = 0; i < 5000 && tarpit.size > 0; i++) await new Promise((r) => setTimeout(r, 1));
    expect(tarpit.size).toBe(0);
  });
});
