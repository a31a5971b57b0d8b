// The token client against our own authorization server (tokenRouter on a real loopback server): discovery, single flight, one token per scope set, both client authentication methods, and a foreign guard accepting its tokens.
import express from 'express';
import { auth } from 'express-oauth2-jwt-bearer';
import { createTokenClient, TokenClientError, type TokenClient } from '../../lib/client';
import { listen, startIssuer, type TestIssuer } from '../remote-helpers';

const TOKEN_PATH = '/oauth/token';
const METADATA_PATH = '/.well-known/oauth-authorization-server';

function claims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
}

let iss: TestIssuer;
let client: TokenClient | undefined;
beforeEach(async () => {
  iss = await startIssuer();
});
afterEach(async () => {
  client?.close();
  client = undefined;
  await iss.close();
});

describe('token client against our token endpoint', () => {
  it('finds the token endpoint in RFC 8414 metadata once and caches the token', async () => {
    const { id, secret } = await iss.createClient('read write');
    client = createTokenClient({ issuer: iss.issuer, clientId: id, clientSecret: secret, scope: 'read' });
    const first = await client.getToken();
    const second = await client.getToken();
    expect(second.accessToken).toBe(first.accessToken);
    expect(first.scopes).toEqual(['read']);
    expect(claims(first.accessToken)).toMatchObject({ client_id: id, scope: 'read' });
    expect(iss.hits.get(METADATA_PATH)).toBe(1);
    expect(iss.hits.get(TOKEN_PATH)).toBe(1);
  });

  it('sends 100 concurrent callers with an empty cache through exactly one token request (single flight)', async () => {
    const { id, secret } = await iss.createClient('read write');
    client = createTokenClient({ issuer: iss.issuer, clientId: id, clientSecret: secret });
    const tokens = await Promise.all(Array.from({ length: 100 }, () => client!.getToken({ scope: 'read' })));
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(iss.hits.get(TOKEN_PATH)).toBe(1);
    expect(iss.hits.get(METADATA_PATH)).toBe(1);
  });

  it('asks once per scope set and never hands out a token of another scope set', async () => {
    const { id, secret } = await iss.createClient('read write');
    client = createTokenClient({ issuer: iss.issuer, clientId: id, clientSecret: secret });
    const calls = Array.from({ length: 60 }, (_, i) =>
      i % 2 === 0
        ? client!.getToken({ scope: 'read' }).then((t) => ({ asked: 'read', t }))
        : client!.getToken({ scope: 'write read' }).then((t) => ({ asked: 'read write', t })),
    );
    const results = await Promise.all(calls);
    expect(iss.hits.get(TOKEN_PATH)).toBe(2);
    for (const { asked, t } of results) expect(claims(t.accessToken).scope).toBe(asked);
    // The same set written in another order is the same key: no third request.
    await client.getToken({ scope: ['write', 'read', 'read'] });
    expect(iss.hits.get(TOKEN_PATH)).toBe(2);
  });

  it('authenticates with client_secret_post when asked (RFC 6749 §2.3.1)', async () => {
    const { id, secret } = await iss.createClient('read');
    client = createTokenClient({ tokenEndpoint: iss.issuer + TOKEN_PATH, clientId: id, clientSecret: secret, clientAuthMethod: 'client_secret_post' });
    const token = await client.getToken();
    expect(claims(token.accessToken).client_id).toBe(id);
    expect(iss.hits.get(METADATA_PATH)).toBeUndefined();
  });

  it('fails with a typed invalid_client error (RFC 6749 §5.2) and never caches the failure', async () => {
    const { id } = await iss.createClient('read');
    let now = Date.now();
    client = createTokenClient({ issuer: iss.issuer, clientId: id, clientSecret: 'wrong-secret', now: () => now });
    const err = await client.getToken().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenClientError);
    expect(err).toMatchObject({ error: 'invalid_client', status: 401 });
    expect(String((err as Error).message)).not.toContain('wrong-secret');
    now += 60_000; // past the backoff: the next call asks again
    await expect(client.getToken()).rejects.toMatchObject({ error: 'invalid_client' });
    expect(iss.hits.get(TOKEN_PATH)).toBe(2);
  });

  it('answers invalid_scope for a scope the client may not have', async () => {
    const { id, secret } = await iss.createClient('read');
    client = createTokenClient({ issuer: iss.issuer, clientId: id, clientSecret: secret });
    await expect(client.getToken({ scope: 'admin' })).rejects.toMatchObject({ error: 'invalid_scope', status: 400 });
  });

  it('gets a token for a resource (RFC 8707) that express-oauth2-jwt-bearer accepts, and calls it with client.fetch', async () => {
    const ORDERS = 'https://orders.internal';
    const app = express();
    app.get('/orders', auth({ issuerBaseURL: iss.issuer, audience: ORDERS, strict: true }), (req, res) => {
      const { payload } = (req as unknown as { auth: { payload: Record<string, unknown> } }).auth;
      res.json({ sub: payload.sub, scope: payload.scope });
    });
    const http = await listen(app);
    try {
      const { client: registered, clientSecret } = await iss.oauth.registry.create({ name: 'caller', scopes: 'read', audiences: [ORDERS] });
      client = createTokenClient({ issuer: iss.issuer, clientId: registered.id, clientSecret, scope: 'read', resource: ORDERS });
      const res = await client.fetch(`${http.url}/orders`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ sub: registered.id, scope: 'read' });
      expect(iss.hits.get(TOKEN_PATH)).toBe(1);
    } finally {
      await http.close();
    }
  });
});

describe('token client options', () => {
  it('throws TypeError at construction, not on the first call', () => {
    const base = { clientId: 'c', clientSecret: 's' };
    expect(() => createTokenClient({ ...base })).toThrow(/exactly one of issuer and tokenEndpoint/);
    expect(() => createTokenClient({ ...base, issuer: 'http://auth.example' })).toThrow(/https/);
    expect(() => createTokenClient({ ...base, issuer: 'https://auth.example', clientAuthMethod: 'private_key_jwt' as never })).toThrow(TypeError);
    expect(() => createTokenClient({ ...base, issuer: 'https://auth.example', scope: 'a"b' })).toThrow(TypeError);
    expect(() => createTokenClient({ ...base, issuer: 'https://auth.example', refreshBufferMaxFraction: 1 })).toThrow(TypeError);
    expect(() => createTokenClient({ clientId: 'c', clientSecret: '', issuer: 'https://auth.example' })).toThrow(/clientSecret/);
    expect(() => createTokenClient({ ...base, issuer: 'http://auth.example', allowInsecureRequests: true })).not.toThrow();
  });
});
