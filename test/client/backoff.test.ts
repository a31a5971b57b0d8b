// Failed token requests: typed errors, bounded exponential backoff, Retry-After on 429/503 honoured, metadata refetched after a failure; all on an injected clock, no waiting.
import { createTokenClient, TokenClientError, type TokenClient } from '../../lib/client';
import { fakeClock } from '../helpers';
import { startStub, type Stub } from './stub';

let stub: Stub;
let client: TokenClient | undefined;
let clock: ReturnType<typeof fakeClock>;
beforeEach(async () => {
  stub = await startStub();
  clock = fakeClock();
});
afterEach(async () => {
  client?.close();
  client = undefined;
  await stub.close();
});

function make(extra: { issuer?: boolean } = {}): TokenClient {
  client = extra.issuer
    ? createTokenClient({ issuer: stub.url, clientId: 'svc', clientSecret: 'secret', now: clock.now })
    : createTokenClient({ tokenEndpoint: `${stub.url}/token`, clientId: 'svc', clientSecret: 'secret', now: clock.now });
  return client;
}

describe('token client failures', () => {
  it('backs off exponentially (1 s, 2 s, 4 s ... at most 30 s) without asking the server in between', async () => {
    stub.answerToken = () => ({ status: 500, body: {} });
    const c = make();
    const gaps: number[] = [];
    let last = clock.now();
    for (let attempt = 0; attempt < 8; attempt++) {
      // Call every 500 ms until the server is asked again.
      const before = stub.tokenRequests.length;
      for (let i = 0; i < 200 && stub.tokenRequests.length === before; i++) {
        await expect(c.getToken()).rejects.toBeInstanceOf(TokenClientError);
        if (stub.tokenRequests.length === before) clock.advance(500);
      }
      gaps.push(clock.now() - last);
      last = clock.now();
    }
    expect(gaps).toEqual([0, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  });

  it('reports the last failure while backing off, with the seconds left in retryAfter', async () => {
    stub.answerToken = () => ({ status: 400, body: { error: 'invalid_scope', error_description: 'no such scope' } });
    const c = make();
    await expect(c.getToken()).rejects.toMatchObject({ error: 'invalid_scope', status: 400, description: 'no such scope' });
    const during = (await c.getToken().catch((e: unknown) => e)) as TokenClientError;
    expect(during).toMatchObject({ error: 'invalid_scope', retryAfter: 1 });
    expect(stub.tokenRequests).toHaveLength(1);
  });

  it.each([429, 503])('honours Retry-After on %i (RFC 9110 §10.2.3)', async (status) => {
    stub.answerToken = (n) =>
      n === 0
        ? { status, headers: { 'retry-after': '120' }, body: { error: 'temporarily_unavailable' } }
        : { body: { access_token: `t${n}`, token_type: 'Bearer', expires_in: 3600 } };
    const c = make();
    await expect(c.getToken()).rejects.toMatchObject({ error: 'temporarily_unavailable', status, retryAfter: 120 });
    clock.advance(119_000);
    await expect(c.getToken()).rejects.toMatchObject({ retryAfter: 1 });
    expect(stub.tokenRequests).toHaveLength(1);
    clock.advance(1_000);
    expect((await c.getToken()).accessToken).toBe('t1');
    expect(stub.tokenRequests).toHaveLength(2);
  });

  it('maps a non-OAuth error answer to temporarily_unavailable / server_error with the status', async () => {
    stub.answerToken = (n) => (n === 0 ? { status: 502, body: 'bad gateway' } : { body: { token_type: 'Bearer' } });
    const c = make();
    await expect(c.getToken()).rejects.toMatchObject({ error: 'temporarily_unavailable', status: 502 });
    clock.advance(1_000);
    await expect(c.getToken()).rejects.toMatchObject({ error: 'server_error', status: 200 });
  });

  it('emits token.fetch_failed with the failure count and the wait', async () => {
    stub.answerToken = () => ({ status: 401, body: { error: 'invalid_client' } });
    const c = make();
    const failed: unknown[] = [];
    c.events.on('token.fetch_failed', (e) => failed.push(e));
    await c.getToken().catch(() => undefined);
    expect(failed).toEqual([
      { type: 'token.fetch_failed', time: clock.now(), scopes: [], resources: [], error: 'invalid_client', status: 401, failures: 1, retryAfter: 1 },
    ]);
  });

  it('refetches the metadata after a token request that failed without an OAuth error (RFC 8414)', async () => {
    stub.tokenPath = '/old-token';
    const c = make({ issuer: true });
    stub.answerToken = () => ({ body: { access_token: 'x', token_type: 'Bearer', expires_in: 1 } });
    await c.getToken();
    expect(stub.metadataRequests).toBe(1);
    // The server moves its token endpoint: the cached one now answers 404.
    stub.tokenPath = '/new-token';
    stub.answerToken = (n) => ({ body: { access_token: `t${n}`, token_type: 'Bearer', expires_in: 3600 } });
    clock.advance(2_000);
    await expect(c.getToken()).rejects.toMatchObject({ status: 404 });
    clock.advance(1_000);
    expect((await c.getToken()).accessToken).toBe('t1');
    expect(stub.metadataRequests).toBe(2);
  });

  it('rejects metadata that names another issuer (RFC 8414 §3.3)', async () => {
    client = createTokenClient({ issuer: `${stub.url}/tenant`, clientId: 'svc', clientSecret: 'secret', now: clock.now });
    const err = (await client.getToken().catch((e: unknown) => e)) as TokenClientError;
    expect(err).toMatchObject({ error: 'server_error', status: 200 });
    expect(err.description).toMatch(/issuer/);
    expect(stub.tokenRequests).toHaveLength(0);
  });

  it('gives up on a token endpoint that does not answer within requestTimeoutMs', async () => {
    stub.answerToken = () => new Promise(() => undefined); // never answers
    client = createTokenClient({ tokenEndpoint: `${stub.url}/token`, clientId: 'svc', clientSecret: 'secret', now: clock.now, requestTimeoutMs: 50 });
    await expect(client.getToken()).rejects.toMatchObject({ error: 'temporarily_unavailable', status: undefined });
  });

  it('close() stops a token request in flight', async () => {
    stub.answerToken = () => new Promise(() => undefined);
    const c = make();
    const pending = c.getToken();
    for (let i = 0; i < 10_000 && stub.tokenRequests.length === 0; i++) await new Promise((resolve) => setImmediate(resolve));
    c.close();
    await expect(pending).rejects.toMatchObject({ error: 'temporarily_unavailable', description: 'the token client was closed' });
  });
});
