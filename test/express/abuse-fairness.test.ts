// Abuse resistance, round two (issue 19): the bcrypt gate's fair queue under a distributed flood, and the client address taken when the request starts.
import { connect } from 'node:net';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import bcrypt from 'bcrypt';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { oauthErrorHandler } from '../../lib';
import type { AuditEvent } from '../../lib/core';
import { buildApp, type TestApp } from '../helpers';

let t: TestApp;
let server: Server | undefined;
let releaseHeld: (() => void) | undefined;
afterEach(async () => {
  // Comparisons still held (a failed assertion) would keep connections, and the server, open.
  releaseHeld?.();
  releaseHeld = undefined;
  jest.restoreAllMocks();
  if (server) await new Promise<void>((r) => server?.close(() => r()));
  server = undefined;
  await t.close();
});

/** Waits (bounded: 10 s) until `done()` holds, checking between turns of the event loop. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Serves `app`'s token endpoint on 127.0.0.1, with `before` (if any) ahead of it. */
async function listen(app: TestApp, before?: RequestHandler): Promise<number> {
  const host = express();
  if (before) host.use(before);
  host.use(app.oauth.tokenRouter());
  host.use(oauthErrorHandler());
  server = host.listen(0, '127.0.0.1');
  await new Promise((r) => server?.once('listening', r));
  return (server?.address() as AddressInfo).port;
}

/** A token request over loopback from `from` (any 127/8 address: Linux routes them all to lo). */
function post(port: number, from: string, id: string, secret: string): Promise<number> {
  const body = 'grant_type=client_credentials';
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        localAddress: from,
        method: 'POST',
        path: '/oauth/token',
        agent: false,
        headers: {
          authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Holds every bcrypt comparison until the returned release() is called; counts them. */
function holdComparisons(): { release: () => void; calls: () => number } {
  const original = bcrypt.compare.bind(bcrypt) as (data: string, hash: string) => Promise<boolean>;
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  releaseHeld = release;
  const spy = jest
    .spyOn(bcrypt, 'compare')
    .mockImplementation(((data: string, hash: string) => released.then(() => original(data, hash))) as typeof bcrypt.compare);
  return { release, calls: () => spy.mock.calls.length };
}

describe('bcrypt gate under a distributed flood (issue 19.1)', () => {
  it('answers a never-verified valid client 200 behind 30 flooding addresses, shedding the floods instead of the newcomer', async () => {
    t = await buildApp({ maxConcurrentAuthentications: 1, maxQueuedAuthentications: 32 });
    const { id, secret } = await t.createClient();
    const port = await listen(t);
    const gate = t.oauth.server.clientAuth.gate;
    const held = holdComparisons();
    // 30 addresses, 2 wrong secrets each: 60 comparisons wanted, 1 slot and 32 places.
    const flood: Promise<number>[] = [];
    const answered: number[] = [];
    for (let a = 1; a <= 30; a++) {
      for (let k = 0; k < 2; k++) {
        flood.push(post(port, `127.30.0.${a}`, `flood-${a}-${k}`, 'wrong-secret').then((s) => (answered.push(s), s)));
      }
    }
    await until(() => gate.running + gate.waiting + answered.length === 60, 'the flood to be queued or refused');
    expect(gate.waiting).toBe(32);
    // The valid client, never verified by this process, arrives last, when first-come would refuse it.
    let validStatus: number | undefined;
    const valid = post(port, '127.31.0.1', id, secret).then((s) => (validStatus = s));
    await until(() => gate.running + gate.waiting + answered.length === 61 || validStatus !== undefined, 'the valid request to be queued');
    held.release();
    expect(await valid).toBe(200);
    const statuses = await Promise.all(flood);
    expect(statuses.filter((s) => s === 401).length + statuses.filter((s) => s === 503).length).toBe(60);
    // Every address got at least one comparison: what was shed were second requests.
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(30);
  });
});

describe('client address taken when the request starts (issue 19.2)', () => {
  it('never compares a secret for a locked-out address whose connection was reset right after the request', async () => {
    t = await buildApp({ addressFailureLimit: 2, addressFailureWindow: 600, clientFailureLimit: 0 });
    const { id } = await t.createClient();
    // Count requests entering the app and responses ended, to know when every reset request was handled.
    let entered = 0;
    let ended = 0;
    const port = await listen(t, (_req: Request, res: Response, next: NextFunction) => {
      entered++;
      const end = res.end.bind(res);
      res.end = ((...args: Parameters<typeof res.end>) => {
        ended++;
        return end(...args);
      }) as typeof res.end;
      next();
    });
    for (let i = 0; i < 2; i++) expect(await post(port, '127.0.0.1', `guess-${i}`, 'wrong-secret')).toBe(401);
    entered = ended = 0;
    const compare = jest.spyOn(bcrypt, 'compare');
    const events: AuditEvent[] = [];
    t.oauth.events.on('audit', (e: AuditEvent) => events.push(e));

    const body = 'grant_type=client_credentials';
    const raw =
      `POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic ${Buffer.from(`${id}:wrong-secret`).toString('base64')}\r\n` +
      `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    for (let i = 0; i < 30; i++) {
      await new Promise<void>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port }, () => {
          socket.write(raw, () => {
            socket.resetAndDestroy();
            resolve();
          });
        });
        socket.on('error', () => resolve());
      });
    }
    await until(() => entered > 0 && ended === entered, 'every reset request to be answered');
    expect(compare).not.toHaveBeenCalled();
    // Each was refused with the address it came from, or (address already gone) as a bad request.
    for (const e of events) {
      if (e.type === 'rate_limit.hit') expect(e).toMatchObject({ limit: 'address', address: '127.0.0.1' });
    }
  });

  it('holds a connection reset after the body was read to its address limit: 429 with the address, no comparison', async () => {
    t = await buildApp({ addressFailureLimit: 2, addressFailureWindow: 600, clientFailureLimit: 0 });
    const { id, secret } = await t.createClient();
    let current: Request | undefined;
    const port = await listen(t, (req: Request, _res: Response, next: NextFunction) => {
      current = req;
      next();
    });
    for (let i = 0; i < 2; i++) expect(await post(port, '127.0.0.1', `guess-${i}`, 'wrong-secret')).toBe(401);
    const events: AuditEvent[] = [];
    t.oauth.events.on('audit', (e: AuditEvent) => events.push(e));
    const compare = jest.spyOn(bcrypt, 'compare');
    // The connection goes away after the body is read and before the client is authenticated: the
    // moment at which req.ip had become undefined in the reported attacks (a socket's address is only
    // kept once read, which the token router now does first).
    const server0 = t.oauth.server;
    const check = server0.checkTokenRequest.bind(server0);
    jest.spyOn(server0, 'checkTokenRequest').mockImplementation((params) => {
      current?.socket.destroy();
      return check(params);
    });
    await post(port, '127.0.0.1', id, secret).catch(() => undefined);
    await until(() => events.length > 0, 'the refusal to be recorded');
    expect(events).toEqual([
      { type: 'rate_limit.hit', time: expect.any(Number), limit: 'address', clientId: id, address: '127.0.0.1', retryAfter: 600 },
    ]);
    expect(compare).not.toHaveBeenCalled();
  });

  it('refuses with 400 invalid_request, never evaluating it, a request whose address is already gone when it starts', async () => {
    t = await buildApp();
    const { id, secret } = await t.createClient();
    const statuses: number[] = [];
    // The connection is gone before the token router runs: Express can no longer tell where it came from.
    const port = await listen(t, (req: Request, res: Response, next: NextFunction) => {
      const end = res.end.bind(res);
      res.end = ((...args: Parameters<typeof res.end>) => {
        statuses.push(res.statusCode);
        return end(...args);
      }) as typeof res.end;
      req.socket.destroy();
      next();
    });
    const compare = jest.spyOn(bcrypt, 'compare');
    await post(port, '127.0.0.1', id, secret).catch(() => undefined);
    await until(() => statuses.length === 1, 'the request to be answered');
    expect(statuses).toEqual([400]);
    expect(compare).not.toHaveBeenCalled();
  });
});
