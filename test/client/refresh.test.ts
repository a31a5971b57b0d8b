// When the token client asks again: early refresh with an injected clock, a short token that must not loop, tokens without expires_in, Basic encoding, the LRU bound.
import { createTokenClient, type TokenClient, type TokenClientOptions } from '../../lib/client';
import { fakeClock } from '../helpers';
import { startStub, type Stub } from './stub';

let stub: Stub;
let client: TokenClient | undefined;
beforeEach(async () => {
  stub = await startStub();
});
afterEach(async () => {
  client?.close();
  client = undefined;
  await stub.close();
});

function make(options: Partial<TokenClientOptions> & { now: () => number }): TokenClient {
  client = createTokenClient({ tokenEndpoint: `${stub.url}/token`, clientId: 'svc', clientSecret: 'secret', ...options });
  return client;
}

describe('token client refresh', () => {
  it('refreshes a 3600 s token 60 s before it expires (the default buffer), not earlier', async () => {
    const clock = fakeClock();
    const c = make({ now: clock.now });
    expect((await c.getToken()).accessToken).toBe('t0');
    clock.advance(3_539_000);
    expect((await c.getToken()).accessToken).toBe('t0');
    clock.advance(1_000);
    expect((await c.getToken()).accessToken).toBe('t1');
    expect(stub.tokenRequests).toHaveLength(2);
  });

  it('caps the buffer at half the lifetime: a 30 s token with a 60 s buffer is refreshed every 15 s, not on every call', async () => {
    stub.answerToken = (n) => ({ body: { access_token: `t${n}`, token_type: 'Bearer', expires_in: 30 } });
    const clock = fakeClock();
    const c = make({ now: clock.now, refreshBufferMs: 60_000 });
    for (let second = 0; second < 120; second++) {
      for (let i = 0; i < 10; i++) await c.getToken();
      clock.advance(1_000);
    }
    // 120 s of calls, 10 a second: one request per 15 s of lifetime used.
    expect(stub.tokenRequests).toHaveLength(8);
  });

  it('shares one refresh between the callers that find the token due', async () => {
    const clock = fakeClock();
    const c = make({ now: clock.now });
    await c.getToken();
    clock.advance(3_550_000);
    const tokens = await Promise.all(Array.from({ length: 50 }, () => c.getToken()));
    expect(new Set(tokens.map((t) => t.accessToken))).toEqual(new Set(['t1']));
    expect(stub.tokenRequests).toHaveLength(2);
  });

  it('keeps using a token that is due but still valid when its refresh fails', async () => {
    const clock = fakeClock();
    const c = make({ now: clock.now });
    await c.getToken();
    stub.answerToken = () => ({ status: 503, body: { error: 'temporarily_unavailable' } });
    clock.advance(3_550_000);
    expect((await c.getToken()).accessToken).toBe('t0');
    clock.advance(60_000); // expired now
    await expect(c.getToken()).rejects.toMatchObject({ error: 'temporarily_unavailable', status: 503 });
  });

  it('hands a token without expires_in to the callers waiting for it and does not cache it', async () => {
    stub.answerToken = (n) => ({ body: { access_token: `t${n}`, token_type: 'bearer' } });
    const clock = fakeClock();
    const c = make({ now: clock.now });
    const concurrent = await Promise.all(Array.from({ length: 20 }, () => c.getToken()));
    expect(new Set(concurrent.map((t) => t.accessToken)).size).toBe(1);
    expect(concurrent[0]!.expiresAt).toBeUndefined();
    expect((await c.getToken()).accessToken).toBe('t1');
    expect(stub.tokenRequests).toHaveLength(2);
  });

  it('keeps at most maxEntries cache entries (least recently used dropped)', async () => {
    const clock = fakeClock();
    const c = make({ now: clock.now, maxEntries: 2 });
    await c.getToken({ scope: 'a' });
    await c.getToken({ scope: 'b' });
    await c.getToken({ scope: 'a' });
    expect(stub.tokenRequests).toHaveLength(2);
    await c.getToken({ scope: 'c' }); // drops b, the least recently used
    await c.getToken({ scope: 'a' });
    expect(stub.tokenRequests).toHaveLength(3);
    await c.getToken({ scope: 'b' });
    expect(stub.tokenRequests).toHaveLength(4);
  });

  it('sends scope and every resource as form parameters (RFC 8707 §2)', async () => {
    const clock = fakeClock();
    const c = make({ now: clock.now, scope: 'write read' });
    await c.getToken({ resource: ['https://b.example', 'https://a.example'] });
    const { form } = stub.tokenRequests[0]!;
    expect(form.get('grant_type')).toBe('client_credentials');
    expect(form.get('scope')).toBe('read write');
    expect(form.getAll('resource')).toEqual(['https://a.example', 'https://b.example']);
  });

  it('form-encodes id and secret before Basic encoding (RFC 6749 §2.3.1)', async () => {
    const clock = fakeClock();
    client = createTokenClient({ tokenEndpoint: `${stub.url}/token`, clientId: 'svc:1 é', clientSecret: 'p@ss:wörd+/ x', now: clock.now });
    await client.getToken();
    const header = stub.tokenRequests[0]!.authorization as string;
    const [user, pass] = Buffer.from(header.replace(/^Basic /, ''), 'base64').toString('utf8').split(':');
    expect(user).toBe('svc%3A1+%C3%A9');
    expect(decodeURIComponent(pass!.replace(/\+/g, ' '))).toBe('p@ss:wörd+/ x');
    expect(stub.tokenRequests[0]!.form.get('client_secret')).toBeNull();
  });

  it('sends id and secret in the body, and no Authorization header, with client_secret_post (RFC 6749 §2.3.1)', async () => {
    const clock = fakeClock();
    client = createTokenClient({ tokenEndpoint: `${stub.url}/token`, clientId: 'svc', clientSecret: 's:1', clientAuthMethod: 'client_secret_post', now: clock.now });
    await client.getToken();
    const { authorization, form } = stub.tokenRequests[0]!;
    expect(authorization).toBeUndefined();
    expect([form.get('client_id'), form.get('client_secret')]).toEqual(['svc', 's:1']);
  });

  it('counts fetched tokens through its events', async () => {
    const clock = fakeClock();
    const c = make({ now: clock.now });
    const seen: unknown[] = [];
    c.events.on('event', (e) => seen.push(e));
    await c.getToken({ scope: 'read' });
    expect(seen).toEqual([{ type: 'token.fetched', time: clock.now(), scopes: ['read'], resources: [], expiresIn: 3600, cached: true }]);
  });

  it('refuses calls after close()', async () => {
    const clock = fakeClock();
    const c = make({ now: clock.now });
    await c.getToken();
    c.close();
    await expect(c.getToken()).rejects.toMatchObject({ error: 'temporarily_unavailable' });
  });
});
