// Interoperability of private_key_jwt and DPoP over HTTP on loopback: oauth4webapi (directly, and as the token client) against our token endpoint and guards, and our DPoP-bound tokens verified by express-oauth2-jwt-bearer.
import express from 'express';
import request from 'supertest';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { auth } from 'express-oauth2-jwt-bearer';
import * as oauth from 'oauth4webapi';
import { createTokenClient } from '../../lib/client';
import { createResourceServer, oauthErrorHandler } from '../../lib';
import { SqliteStore } from '../../lib/store/sqlite';
import { tempDir } from '../helpers';
import { listen, startIssuer, type TestIssuer } from '../remote-helpers';

const ORDERS = 'https://orders.internal';
const NONCE_SECRET = 'n'.repeat(32);

let iss: TestIssuer | undefined;
afterEach(async () => {
  await iss?.close();
  iss = undefined;
});

/** A client registered with a public key only (no secret exists), and its private key as PEM. */
async function keyedClient(options: { requireDpop?: boolean } = {}): Promise<{ clientId: string; privateKeyPem: string; privateKey: KeyObject }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' };
  const client = await (iss as TestIssuer).oauth.registry.createWithKeys(
    { name: 'keyed', scopes: 'read', audiences: [ORDERS], ...(options.requireDpop ? { requireDpop: true } : {}) },
    { jwks: { keys: [jwk] } },
  );
  expect(client.secrets).toEqual([]);
  return { clientId: client.id, privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, privateKey };
}

describe('done when: a client with no secret gets a DPoP-bound token with a signed assertion and calls a guarded route', () => {
  it('the token client (oauth4webapi PrivateKeyJwt + DPoP) gets a bound token and calls the guard; a stolen copy is useless (RFC 7523 §2.2, RFC 9449 §7)', async () => {
    iss = await startIssuer();
    const { clientId, privateKeyPem } = await keyedClient({ requireDpop: true });
    const client = createTokenClient({ issuer: iss.issuer, clientId, privateKey: privateKeyPem, privateKeyId: 'k1', dpop: true, scope: 'read' });
    try {
      const res = await client.fetch(`${iss.issuer}/api/items`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { auth: { clientId: string } }).auth.clientId).toBe(clientId);

      const stolen = await client.getToken();
      expect(stolen.tokenType).toBe('DPoP');
      const asBearer = await request(iss.issuer).get('/api/items').set('Authorization', `Bearer ${stolen.accessToken}`);
      expect(asBearer.status).toBe(401);
      // The thief has the token and a key of its own, but not the client's DPoP key.
      const thief = oauth.DPoP({}, await oauth.generateKeyPair('ES256'));
      const withOwnKey = await oauth
        .protectedResourceRequest(stolen.accessToken, 'GET', new URL(`${iss.issuer}/api/items`), undefined, undefined, {
          DPoP: thief,
          [oauth.allowInsecureRequests]: true,
        })
        .catch((err: unknown) => (err as { response: Response }).response);
      expect(withOwnKey.status).toBe(401);
      expect(withOwnKey.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_dpop_proof"/);
    } finally {
      client.close();
    }
  });

  it('the token client retries once when the token endpoint asks for a DPoP nonce (RFC 9449 §8)', async () => {
    iss = await startIssuer({ dpop: { nonceSecrets: [NONCE_SECRET] } });
    const { clientId, privateKey } = await keyedClient();
    const client = createTokenClient({ issuer: iss.issuer, clientId, privateKey, dpop: true, scope: 'read' });
    try {
      const token = await client.getToken();
      expect(token.tokenType).toBe('DPoP');
      // One request answered use_dpop_nonce, the retry succeeded.
      expect(iss.hits.get('/oauth/token')).toBe(2);
      expect((await client.fetch(`${iss.issuer}/api/items`)).status).toBe(200);
    } finally {
      client.close();
    }
  });
});

describe('DPoP nonces asked by a resource server (RFC 9449 §9)', () => {
  it('the token client retries once with the nonce a remote guard asks for, and the guard grants it', async () => {
    iss = await startIssuer();
    const { clientId, privateKey } = await keyedClient();
    const orders = createResourceServer({ issuer: iss.issuer, audience: ORDERS, dpopProof: { nonceSecrets: [NONCE_SECRET] } });
    let calls = 0;
    const app = express();
    app.use((_req, _res, next) => {
      calls++;
      next();
    });
    app.get('/orders', orders.requireScope('read', { dpopNonce: true }), (req, res) => res.json({ caller: req.auth?.clientId }));
    app.use(oauthErrorHandler());
    const service = await listen(app);
    const client = createTokenClient({ issuer: iss.issuer, clientId, privateKey, dpop: true, scope: 'read', resource: ORDERS });
    try {
      const res = await client.fetch(`${service.url}/orders`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ caller: clientId });
      // The first call was answered 401 use_dpop_nonce with a DPoP-Nonce header; the retry carried it.
      expect(calls).toBe(2);
      expect(res.headers.get('dpop-nonce')).toMatch(/^\d+\.[A-Za-z0-9_-]{22}$/);
    } finally {
      client.close();
      orders.close();
      await service.close();
    }
  });
});

describe('oauth4webapi as the client', () => {
  it('privateKeyJwt and DPoP helpers against our token endpoint, then protectedResourceRequest against our guard (RFC 7523, RFC 9449)', async () => {
    iss = await startIssuer({ dpop: { nonceSecrets: [NONCE_SECRET] } });
    const { clientId, privateKey } = await keyedClient();
    const http = { [oauth.allowInsecureRequests]: true };
    const as = await oauth.processDiscoveryResponse(new URL(iss.issuer), await oauth.discoveryRequest(new URL(iss.issuer), { algorithm: 'oauth2', ...http }));
    expect(as.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
    expect(as.dpop_signing_alg_values_supported).toContain('ES256');
    const key = await crypto.subtle.importKey('jwk', privateKey.export({ format: 'jwk' }), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    const clientAuth = oauth.PrivateKeyJwt({ key, kid: 'k1' });
    const dpop = oauth.DPoP({}, await oauth.generateKeyPair('ES256'));
    const grant = () =>
      oauth
        .clientCredentialsGrantRequest(as, { client_id: clientId }, clientAuth, new URLSearchParams({ scope: 'read' }), { DPoP: dpop, ...http })
        .then((response) => oauth.processClientCredentialsResponse(as, { client_id: clientId }, response));
    // RFC 9449 §8: the first request learns the nonce, the second carries it.
    const first: unknown = await grant().then(() => undefined, (err: unknown) => err);
    expect(oauth.isDPoPNonceError(first)).toBe(true);
    const body = await grant();
    expect(body.token_type).toBe('dpop');
    const response = await oauth.protectedResourceRequest(body.access_token, 'GET', new URL(`${iss.issuer}/api/items`), undefined, undefined, { DPoP: dpop, ...http });
    expect(response.status).toBe(200);
  });
});

describe('express-oauth2-jwt-bearer verifies our DPoP-bound tokens', () => {
  it('accepts a bound token with a proof by its key and refuses it as a bearer token (RFC 9449 §7)', async () => {
    iss = await startIssuer();
    const { clientId, privateKey } = await keyedClient();
    const app = express();
    app.get('/orders', auth({ issuerBaseURL: iss.issuer, audience: ORDERS, dpop: { enabled: true } }), (req, res) => {
      const { payload } = (req as unknown as { auth: { payload: Record<string, unknown> } }).auth;
      res.json({ sub: payload.sub, cnf: payload.cnf });
    });
    const orders = await listen(app);
    const client = createTokenClient({ issuer: iss.issuer, clientId, privateKey, dpop: true, scope: 'read', resource: ORDERS });
    try {
      const res = await client.fetch(`${orders.url}/orders`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { sub: string; cnf: { jkt: string } };
      expect(body.sub).toBe(clientId);
      expect(body.cnf.jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const { accessToken } = await client.getToken();
      expect((await request(orders.url).get('/orders').set('Authorization', `Bearer ${accessToken}`)).status).toBe(401);
    } finally {
      client.close();
      await orders.close();
    }
  });
});

describe('token client options for private_key_jwt and DPoP', () => {
  const base = { issuer: 'https://as.example', clientId: 'c1' };

  it('needs exactly one of clientSecret and privateKey, and a method that fits it (RFC 7523 §2.2)', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => createTokenClient({ ...base })).toThrow(/exactly one of clientSecret and privateKey/);
    expect(() => createTokenClient({ ...base, clientSecret: 's', privateKey })).toThrow(/exactly one/);
    expect(() => createTokenClient({ ...base, privateKey, clientAuthMethod: 'client_secret_basic' })).toThrow(/needs clientSecret/);
    expect(() => createTokenClient({ ...base, clientSecret: 's', clientAuthMethod: 'private_key_jwt' })).toThrow(/needs privateKey/);
    expect(() => createTokenClient({ ...base, privateKey: 'not a key' })).toThrow(/asymmetric private key/);
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => createTokenClient({ ...base, privateKey: publicKey })).toThrow(/private key/);
    createTokenClient({ ...base, privateKey: privateKey.export({ format: 'jwk' }) }).close();
  });
});

describe('createResourceServer guards and DPoP (RFC 9449 §7)', () => {
  it('a remote guard accepts a bound token with its proof, refuses it as Bearer and refuses a replayed proof, across two instances sharing a replay store', async () => {
    iss = await startIssuer();
    const { clientId, privateKey } = await keyedClient();
    const { dir, cleanup } = tempDir();
    const shared = SqliteStore.open(`${dir}/replay.sqlite`);
    const api = (name: string) => {
      const rs = createResourceServer({ issuer: (iss as TestIssuer).issuer, audience: ORDERS, replayStore: shared, publicBaseUrl: 'https://orders.internal' });
      const app = express();
      app.get('/orders', rs.requireScope('read'), (req, res) => res.json({ instance: name, client: req.auth?.clientId }));
      app.use(oauthErrorHandler());
      return { rs, app };
    };
    const one = api('one');
    const two = api('two');
    // The proof names the public URL; the two instances sit behind it (supertest reaches them directly).
    let captured: { authorization: string; dpop: string } | undefined;
    const capture = createTokenClient({
      issuer: iss.issuer, clientId, privateKey, dpop: true, scope: 'read', resource: ORDERS,
      fetch: async (input, init) => {
        if (String(input).startsWith('https://orders.internal')) {
          const headers = new Headers(init?.headers);
          captured = { authorization: headers.get('authorization') as string, dpop: headers.get('dpop') as string };
          return new Response(null, { status: 204 });
        }
        return fetch(input, init);
      },
    });
    try {
      await capture.fetch('https://orders.internal/orders');
      const sent = captured as { authorization: string; dpop: string };
      expect(sent.authorization).toMatch(/^DPoP /);
      const first = await request(one.app).get('/orders').set('Authorization', sent.authorization).set('DPoP', sent.dpop);
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ instance: 'one', client: clientId });
      // The same proof sent to the other instance: refused there, since the jti is claimed in the shared store.
      const replay = await request(two.app).get('/orders').set('Authorization', sent.authorization).set('DPoP', sent.dpop);
      expect(replay.status).toBe(401);
      expect(replay.body.error).toBe('invalid_dpop_proof');
      const bearer = await request(two.app).get('/orders').set('Authorization', sent.authorization.replace(/^DPoP/, 'Bearer'));
      expect(bearer.status).toBe(401);
      expect(bearer.body.error).toBe('invalid_token');
    } finally {
      capture.close();
      one.rs.close();
      two.rs.close();
      await shared.close();
      cleanup();
    }
  });
});

describe('token client at a resource that wants DPoP nonces', () => {
  it('retries once with the nonce the resource sent (RFC 9449 §9)', async () => {
    iss = await startIssuer();
    const { clientId, privateKey } = await keyedClient();
    const seen: (string | undefined)[] = [];
    const resource = await listen((req, res) => {
      const proof = req.headers.dpop as string;
      const nonce = JSON.parse(Buffer.from(proof.split('.')[1] as string, 'base64url').toString()).nonce as string | undefined;
      seen.push(nonce);
      if (nonce !== 'n-1') {
        res.writeHead(401, { 'WWW-Authenticate': 'DPoP algs="ES256", error="use_dpop_nonce"', 'DPoP-Nonce': 'n-1' }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    const client = createTokenClient({ issuer: iss.issuer, clientId, privateKey, dpop: true, scope: 'read' });
    try {
      const res = await client.fetch(`${resource.url}/things`);
      expect(res.status).toBe(200);
      expect(seen).toEqual([undefined, 'n-1']);
    } finally {
      client.close();
      await resource.close();
    }
  });
});
