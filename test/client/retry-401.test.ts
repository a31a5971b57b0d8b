// client.fetch and a resource's 401 (RFC 6750 §3.1 invalid_token): drop the token only if still cached, retry once, never with a token fetched moments ago.
import { createTokenClient, type TokenClient } from '../../lib/client';
import { fakeClock } from '../helpers';
import { deferred, startStub, type Stub } from './stub';

const INVALID = { status: 401, headers: { 'www-authenticate': 'Bearer realm="api", error="invalid_token", error_description="revoked"' }, body: { error: 'invalid_token' } };

let stub: Stub;
let client: TokenClient | undefined;
let clock: ReturnType<typeof fakeClock>;
beforeEach(async () => {
  stub = await startStub();
  clock = fakeClock();
  client = createTokenClient({ tokenEndpoint: `${stub.url}/token`, clientId: 'svc', clientSecret: 'secret', now: clock.now });
});
afterEach(async () => {
  client?.close();
  await stub.close();
});

/** The resource accepts only the tokens in `good`. */
function accept(good: Set<string>): void {
  stub.answerResource = (token) => (token && good.has(token) ? { body: { token } } : INVALID);
}

describe('client.fetch and a 401 from the resource', () => {
  it('sends the cached token as a Bearer header and returns the resource answer', async () => {
    accept(new Set(['t0']));
    const res = await client!.fetch(`${stub.url}/resource`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ token: 't0' });
  });

  it('drops a cached token the resource calls invalid_token, gets a new one and retries once', async () => {
    const good = new Set(['t0']);
    accept(good);
    const c = client!;
    await (await c.fetch(`${stub.url}/resource`)).text();
    clock.advance(60_000);
    good.delete('t0'); // revoked
    good.add('t1');
    const events: string[] = [];
    c.events.on('event', (e: { type: string }) => events.push(e.type));
    const res = await c.fetch(`${stub.url}/resource`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ token: 't1' });
    expect(stub.tokenRequests).toHaveLength(2);
    expect(events).toEqual(['token.fetched', 'token.retried_after_401']);
  });

  it('returns the 401 for a token fetched by this very call, without a second token request', async () => {
    accept(new Set());
    const res = await client!.fetch(`${stub.url}/resource`);
    expect(res.status).toBe(401);
    expect(stub.tokenRequests).toHaveLength(1);
    // Nor moments later: the token is younger than freshTokenMs (5 s), so it stays and is not replaced.
    clock.advance(4_000);
    expect((await client!.fetch(`${stub.url}/resource`)).status).toBe(401);
    expect(stub.tokenRequests).toHaveLength(1);
  });

  it('retries at most once: a second 401 is returned', async () => {
    accept(new Set());
    const c = client!;
    await c.getToken();
    clock.advance(60_000);
    const res = await c.fetch(`${stub.url}/resource`);
    expect(res.status).toBe(401);
    expect(stub.tokenRequests).toHaveLength(2);
  });

  it('leaves the cache alone for a 401 without invalid_token and for another key', async () => {
    stub.answerResource = () => ({ status: 401, headers: { 'www-authenticate': 'Bearer realm="api"' } });
    const c = client!;
    const other = await c.getToken({ scope: 'other' });
    await c.getToken();
    clock.advance(60_000);
    expect((await c.fetch(`${stub.url}/resource`)).status).toBe(401);
    expect(stub.tokenRequests).toHaveLength(2);
    accept(new Set());
    await c.fetch(`${stub.url}/resource`); // retried once with a new default-key token
    expect(stub.tokenRequests).toHaveLength(3);
    expect((await c.getToken({ scope: 'other' })).accessToken).toBe(other.accessToken);
  });

  it('does not drop a token another caller already put in place of the rejected one', async () => {
    const good = new Set(['t0']);
    const c = client!;
    await c.getToken();
    clock.advance(60_000);
    // Caller A's request with t0 is held at the resource until the cache already holds t1.
    const hold = deferred();
    const arrived = deferred();
    stub.answerResource = async (token) => {
      if (token === 't0') {
        arrived.resolve();
        await hold.promise;
        return INVALID;
      }
      return token && good.has(token) ? { body: { token } } : INVALID;
    };
    const a = c.fetch(`${stub.url}/resource`);
    await arrived.promise;
    // Meanwhile caller B's request is refused too, and B gets t1.
    good.delete('t0');
    good.add('t1');
    stub.answerResource = (token) => (token && good.has(token) ? { body: { token } } : INVALID);
    const b = await c.fetch(`${stub.url}/resource`);
    expect(await b.json()).toEqual({ token: 't1' });
    expect(stub.tokenRequests).toHaveLength(2);
    hold.resolve();
    const resA = await a;
    // A's 401 for t0 leaves t1 cached and is retried with t1: no third token request.
    expect(resA.status).toBe(200);
    expect(await resA.json()).toEqual({ token: 't1' });
    expect(stub.tokenRequests).toHaveLength(2);
  });

  it('does not resend a streamed body: the 401 is returned', async () => {
    accept(new Set());
    const c = client!;
    await c.getToken();
    clock.advance(60_000);
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{}'));
        controller.close();
      },
    });
    const res = await c.fetch(`${stub.url}/resource`, { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(401);
    expect(stub.tokenRequests).toHaveLength(1);
  });
});
