// private_key_jwt at the token endpoint (RFC 7523 §2.2, RFC 7521 §4.2) and DPoP at the token endpoint and guards (RFC 9449), on an injected clock, with proofs and assertions made by jose.
import express, { type Express } from 'express';
import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';
import { createOAuth, createResourceServer, oauthErrorHandler, type OAuth, type OAuthOptions } from '../../lib';
import type { AuditEvent } from '../../lib/core';
import { accessTokenHash } from '../../lib/core/dpop/proof';
import { JWT_BEARER_ASSERTION_TYPE } from '../../lib/core/client-auth/private-key-jwt';
import { fakeClock, ISSUER, memoryLogger, tempDir } from '../helpers';

const TOKEN_URL = `${ISSUER}/oauth/token`;
const API = 'https://api.test';
const NONCE_SECRET = 's'.repeat(32);

interface Keys {
  privateKey: KeyLike;
  jwk: JWK;
}

async function keys(kid?: string): Promise<Keys> {
  const pair = await generateKeyPair('ES256');
  return { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), ...(kid ? { kid } : {}) } };
}

let clock: ReturnType<typeof fakeClock>;
let oauth: OAuth;
let app: Express;
let cleanup: () => void;
let clientKeys: Keys;
let dpopKeys: Keys;
let clientId: string;

async function setup(options: OAuthOptions = {}): Promise<void> {
  const dir = tempDir();
  cleanup = dir.cleanup;
  clock = fakeClock(Date.UTC(2026, 0, 1, 12));
  oauth = createOAuth({ issuer: ISSUER, database: `${dir.dir}/oauth.sqlite`, bcryptCost: 4, logger: memoryLogger(), clock: clock.now, ...options });
  app = express();
  app.use(oauth.tokenRouter());
  app.get('/api/items', oauth.requireScope('read', { publicBaseUrl: API }), (req, res) => res.json({ client: req.auth?.clientId }));
  app.get('/api/strict', oauth.requireScope('read', { publicBaseUrl: API, dpop: 'required' }), (_req, res) => res.json({ ok: true }));
  app.use(oauthErrorHandler());
  clientKeys = await keys('c1');
  dpopKeys = await keys();
  const client = await oauth.registry.createWithKeys({ name: 'keyed', scopes: 'read' }, { jwks: { keys: [clientKeys.jwk] } });
  clientId = client.id;
}

afterEach(async () => {
  await oauth.close();
  cleanup();
});

const seconds = () => Math.floor(clock.now() / 1000);

function assertion(claims: Record<string, unknown> = {}, signer: Keys = clientKeys): Promise<string> {
  return new SignJWT({ iss: clientId, sub: clientId, aud: ISSUER, jti: randomUUID(), iat: seconds(), exp: seconds() + 60, ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'c1' })
    .sign(signer.privateKey);
}

function proof(claims: Record<string, unknown> = {}, signer: Keys = dpopKeys): Promise<string> {
  return new SignJWT({ jti: randomUUID(), htm: 'POST', htu: TOKEN_URL, iat: seconds(), ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: signer.jwk } as never)
    .sign(signer.privateKey);
}

async function tokenRequest(form: Record<string, string>, headers: Record<string, string> = {}) {
  let req = request(app).post('/oauth/token').type('form');
  for (const [name, value] of Object.entries(headers)) req = req.set(name, value);
  return req.send({ grant_type: 'client_credentials', ...form });
}

async function assertionForm(claims: Record<string, unknown> = {}): Promise<Record<string, string>> {
  return { client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: await assertion(claims) };
}

/** A DPoP-bound token for the keyed client. */
async function boundToken(): Promise<string> {
  const res = await tokenRequest(await assertionForm(), { DPoP: await proof() });
  expect(res.status).toBe(200);
  return res.body.access_token as string;
}

function resourceProof(token: string, claims: Record<string, unknown> = {}, signer: Keys = dpopKeys): Promise<string> {
  return proof({ htm: 'GET', htu: `${API}/api/items`, ath: accessTokenHash(token), ...claims }, signer);
}

describe('private_key_jwt at the token endpoint (RFC 7523 §2.2)', () => {
  beforeEach(() => setup());

  it('issues a token to a client with no secret at all for a signed assertion (RFC 7523 §2.2)', async () => {
    const res = await tokenRequest(await assertionForm());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'Bearer', scope: 'read' });
    expect(decodeJwt(res.body.access_token)).toMatchObject({ client_id: clientId, sub: clientId });
  });

  it('accepts the token endpoint URL as aud too (RFC 7523 §3 item 3)', async () => {
    expect((await tokenRequest(await assertionForm({ aud: TOKEN_URL }))).status).toBe(200);
    const res = await tokenRequest(await assertionForm({ aud: 'https://elsewhere.test' }));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('refuses a replayed assertion with invalid_client (RFC 7523 §3 item 7)', async () => {
    const form = await assertionForm();
    expect((await tokenRequest(form)).status).toBe(200);
    const replay = await tokenRequest(form);
    expect(replay.status).toBe(401);
    // The one client-authentication path answers every failed verification alike.
    expect(replay.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
  });

  it('tells the operator why an assertion was rejected in the audit event, and the client nothing more (RFC 7523 §3 item 7)', async () => {
    const events: AuditEvent[] = [];
    oauth.events.on('audit', (e: AuditEvent) => events.push(e));
    const form = await assertionForm();
    expect((await tokenRequest(form)).status).toBe(200);
    const replay = await tokenRequest(form);
    expect(replay.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
    const failed = events.filter((e) => e.type === 'client.authentication_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ reason: 'client authentication failed', detail: 'the client assertion was already used (jti replay)' });
  });

  it('refuses an assertion signed by a key the client did not register, saying no more (RFC 7523 §3 item 9)', async () => {
    const stranger = await keys('c1');
    const res = await tokenRequest({ client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: await assertion({}, stranger) });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
  });

  it('refuses an assertion that expires too far ahead (RFC 7523 §3 item 4)', async () => {
    const res = await tokenRequest(await assertionForm({ exp: seconds() + 3600 }));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('refuses an assertion combined with Basic or a client_secret with invalid_request (RFC 6749 §2.3)', async () => {
    const withBasic = await tokenRequest(await assertionForm(), { Authorization: `Basic ${Buffer.from(`${clientId}:x`).toString('base64')}` });
    expect(withBasic.status).toBe(400);
    expect(withBasic.body.error).toBe('invalid_request');
    const withSecret = await tokenRequest({ ...(await assertionForm()), client_id: clientId, client_secret: 'x' });
    expect(withSecret.status).toBe(400);
    expect(withSecret.body.error).toBe('invalid_request');
  });

  it('refuses another client_assertion_type with invalid_request (RFC 7521 §4.2)', async () => {
    const res = await tokenRequest({ client_assertion_type: 'urn:example:other', client_assertion: await assertion() });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('refuses a secret for a client registered with keys only (RFC 7591 §2)', async () => {
    const res = await request(app).post('/oauth/token').auth(clientId, 'guess').type('form').send({ grant_type: 'client_credentials' });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });
});

describe('DPoP at the token endpoint (RFC 9449 §5)', () => {
  beforeEach(() => setup());

  it('binds the token to the proof key: cnf.jkt and token_type DPoP (RFC 9449 §5, §6.1)', async () => {
    const res = await tokenRequest(await assertionForm(), { DPoP: await proof() });
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('DPoP');
    expect(decodeJwt(res.body.access_token).cnf).toEqual({ jkt: await calculateJwkThumbprint(dpopKeys.jwk) });
  });

  it('refuses an invalid proof with 400 invalid_dpop_proof (RFC 9449 §5 and §4.3)', async () => {
    const res = await tokenRequest(await assertionForm(), { DPoP: await proof({ htu: 'https://auth.test/other' }) });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_dpop_proof');
  });

  it('refuses a replayed proof (RFC 9449 §11.1)', async () => {
    const p = await proof();
    expect((await tokenRequest(await assertionForm(), { DPoP: p })).status).toBe(200);
    const replay = await tokenRequest(await assertionForm(), { DPoP: p });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_dpop_proof');
  });

  it('refuses two DPoP headers (RFC 9449 §4.3 item 1)', async () => {
    const res = await request(app)
      .post('/oauth/token')
      .type('form')
      // superagent sends an array as one header line per value.
      .set('DPoP', [await proof(), await proof()] as unknown as string)
      .send({ grant_type: 'client_credentials', ...(await assertionForm()) });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_dpop_proof');
  });

  it('refuses a token request without a proof from a client registered as DPoP-bound (RFC 9449 §5.2)', async () => {
    await oauth.registry.setRequireDpop(clientId, true);
    const res = await tokenRequest(await assertionForm());
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_dpop_proof');
    expect((await tokenRequest(await assertionForm(), { DPoP: await proof() })).status).toBe(200);
  });

  it('introspection reports cnf and token_type DPoP for a bound token (RFC 9449 §6.2)', async () => {
    const token = await boundToken();
    const { client: rs, clientSecret } = await oauth.registry.create({ name: 'rs', scopes: 'oauth:introspect' });
    const res = await request(app).post('/oauth/introspect').auth(rs.id, clientSecret).type('form').send({ token });
    expect(res.body).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: await calculateJwkThumbprint(dpopKeys.jwk) } });
  });
});

describe('DPoP server nonces at the token endpoint (RFC 9449 §8)', () => {
  beforeEach(() => setup({ dpop: { nonceSecrets: [NONCE_SECRET] } }));

  it('answers a proof without nonce with use_dpop_nonce and a DPoP-Nonce header, then accepts the nonce (RFC 9449 §8)', async () => {
    const first = await tokenRequest(await assertionForm(), { DPoP: await proof() });
    expect(first.status).toBe(400);
    expect(first.body.error).toBe('use_dpop_nonce');
    const nonce = first.headers['dpop-nonce'] as string;
    expect(nonce).toMatch(/^\d+\.[A-Za-z0-9_-]+$/);
    const second = await tokenRequest(await assertionForm(), { DPoP: await proof({ nonce }) });
    expect(second.status).toBe(200);
    expect(second.headers['dpop-nonce']).toBeDefined();
  });

  it('the nonce request does not spend the client assertion (proof checked first)', async () => {
    const form = await assertionForm();
    const first = await tokenRequest(form, { DPoP: await proof() });
    expect(first.body.error).toBe('use_dpop_nonce');
    const second = await tokenRequest(form, { DPoP: await proof({ nonce: first.headers['dpop-nonce'] }) });
    expect(second.status).toBe(200);
  });

  it('a nonce from two steps ago is stale (RFC 9449 §8.1)', async () => {
    const first = await tokenRequest(await assertionForm(), { DPoP: await proof() });
    clock.advance(600_000);
    const late = await tokenRequest(await assertionForm(), { DPoP: await proof({ nonce: first.headers['dpop-nonce'] }) });
    expect(late.status).toBe(400);
    expect(late.body.error).toBe('use_dpop_nonce');
  });
});

describe('DPoP at a guard (RFC 9449 §7)', () => {
  beforeEach(() => setup());

  it('accepts a bound token with the DPoP scheme and a proof by the bound key (RFC 9449 §7.1)', async () => {
    const token = await boundToken();
    const res = await request(app).get('/api/items').set('Authorization', `DPoP ${token}`).set('DPoP', await resourceProof(token));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ client: clientId });
  });

  it('a stolen copy of a bound token is useless without the key (RFC 9449 §7.1 item 11)', async () => {
    const token = await boundToken();
    const thief = await keys();
    const res = await request(app).get('/api/items').set('Authorization', `DPoP ${token}`).set('DPoP', await resourceProof(token, {}, thief));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_dpop_proof');
    expect(res.headers['www-authenticate']).toMatch(/^DPoP realm="oauth", error="invalid_dpop_proof", error_description="[^"]+", algs="ES256 ES384 PS256 RS256 EdDSA"$/);
    const asBearer = await request(app).get('/api/items').set('Authorization', `Bearer ${token}`);
    expect(asBearer.status).toBe(401);
    expect(asBearer.body.error).toBe('invalid_token');
  });

  it('refuses a bound token sent with the Bearer scheme (RFC 9449 §7.2)', async () => {
    const token = await boundToken();
    const res = await request(app).get('/api/items').set('Authorization', `Bearer ${token}`).set('DPoP', await resourceProof(token));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_token');
  });

  it('refuses the DPoP scheme without a proof (RFC 9449 §7.1)', async () => {
    const token = await boundToken();
    const res = await request(app).get('/api/items').set('Authorization', `DPoP ${token}`);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_dpop_proof');
  });

  it('checks ath against the presented token (RFC 9449 §7.1 item 10)', async () => {
    const token = await boundToken();
    const other = await boundToken();
    const res = await request(app).get('/api/items').set('Authorization', `DPoP ${token}`).set('DPoP', await resourceProof(other));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_dpop_proof');
  });

  it('checks htm and htu against the request (RFC 9449 §4.3 items 8, 9)', async () => {
    const token = await boundToken();
    const wrongMethod = await request(app).get('/api/items').set('Authorization', `DPoP ${token}`).set('DPoP', await resourceProof(token, { htm: 'POST' }));
    expect(wrongMethod.body.error).toBe('invalid_dpop_proof');
    const wrongUri = await request(app)
      .get('/api/items')
      .set('Authorization', `DPoP ${token}`)
      .set('DPoP', await resourceProof(token, { htu: `${API}/api/other` }));
    expect(wrongUri.body.error).toBe('invalid_dpop_proof');
  });

  it('computes htu from the configured public base URL, never from X-Forwarded-* headers', async () => {
    const token = await boundToken();
    const res = await request(app)
      .get('/api/items?page=2')
      .set('X-Forwarded-Host', 'evil.test')
      .set('X-Forwarded-Proto', 'http')
      .set('Authorization', `DPoP ${token}`)
      .set('DPoP', await resourceProof(token, { htu: `${API}/api/items` }));
    expect(res.status).toBe(200);
    const forged = await request(app)
      .get('/api/items')
      .set('X-Forwarded-Host', 'evil.test')
      .set('Authorization', `DPoP ${token}`)
      .set('DPoP', await resourceProof(token, { htu: 'https://evil.test/api/items' }));
    expect(forged.status).toBe(401);
  });

  it('refuses a replayed proof at the resource (RFC 9449 §11.1)', async () => {
    const token = await boundToken();
    const p = await resourceProof(token);
    expect((await request(app).get('/api/items').set('Authorization', `DPoP ${token}`).set('DPoP', p)).status).toBe(200);
    const replay = await request(app).get('/api/items').set('Authorization', `DPoP ${token}`).set('DPoP', p);
    expect(replay.status).toBe(401);
    expect(replay.body.error).toBe('invalid_dpop_proof');
  });

  it('refuses a proof older than the window (RFC 9449 §11.1)', async () => {
    const token = await boundToken();
    const p = await resourceProof(token);
    clock.advance(120_000);
    const res = await request(app).get('/api/items').set('Authorization', `DPoP ${token}`).set('DPoP', p);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_dpop_proof');
  });

  it('keeps bearer tokens working with the Bearer scheme, unless the route requires DPoP (RFC 9449 §7.2)', async () => {
    const res = await tokenRequest(await assertionForm());
    const bearer = res.body.access_token as string;
    expect((await request(app).get('/api/items').set('Authorization', `Bearer ${bearer}`)).status).toBe(200);
    const strict = await request(app).get('/api/strict').set('Authorization', `Bearer ${bearer}`);
    expect(strict.status).toBe(401);
    expect(strict.headers['www-authenticate']).toMatch(/^DPoP realm="oauth", error="invalid_token"/);
    const token = await boundToken();
    const ok = await request(app)
      .get('/api/strict')
      .set('Authorization', `DPoP ${token}`)
      .set('DPoP', await proof({ htm: 'GET', htu: `${API}/api/strict`, ath: accessTokenHash(token) }));
    expect(ok.status).toBe(200);
  });

  it('refuses an unbound token sent with the DPoP scheme', async () => {
    const res = await tokenRequest(await assertionForm());
    const bearer = res.body.access_token as string;
    const sent = await request(app).get('/api/items').set('Authorization', `DPoP ${bearer}`).set('DPoP', await resourceProof(bearer));
    expect(sent.status).toBe(401);
    expect(sent.body.error).toBe('invalid_token');
  });
});

describe('DPoP server nonces at a guard (RFC 9449 §9)', () => {
  let nonced: Express;
  beforeEach(async () => {
    await setup({ dpop: { nonceSecrets: [NONCE_SECRET] } });
    nonced = express();
    nonced.get('/api/items', oauth.requireScope('read', { publicBaseUrl: API, dpopNonce: true }), (req, res) => res.json({ client: req.auth?.clientId }));
    nonced.use(oauthErrorHandler());
  });

  /** A bound token from the token endpoint, which asks for its own nonce first (RFC 9449 §8). */
  async function noncedBoundToken(): Promise<string> {
    const first = await tokenRequest(await assertionForm(), { DPoP: await proof() });
    const res = await tokenRequest(await assertionForm(), { DPoP: await proof({ nonce: first.headers['dpop-nonce'] }) });
    expect(res.status).toBe(200);
    return res.body.access_token as string;
  }

  it('answers a proof without the nonce with 401, a DPoP use_dpop_nonce challenge and a DPoP-Nonce header, then accepts it (RFC 9449 §9)', async () => {
    const token = await noncedBoundToken();
    const first = await request(nonced).get('/api/items').set('Authorization', `DPoP ${token}`).set('DPoP', await resourceProof(token));
    expect(first.status).toBe(401);
    expect(first.body.error).toBe('use_dpop_nonce');
    expect(first.headers['www-authenticate']).toMatch(/^DPoP realm="oauth", error="use_dpop_nonce", error_description="[^"]+", algs="[^"]+"$/);
    const nonce = first.headers['dpop-nonce'] as string;
    expect(nonce).toMatch(/^\d+\.[A-Za-z0-9_-]{22}$/);
    const second = await request(nonced).get('/api/items').set('Authorization', `DPoP ${token}`).set('DPoP', await resourceProof(token, { nonce }));
    expect(second.status).toBe(200);
    expect(second.body).toEqual({ client: clientId });
    // §8.2, as §9 allows: a granted DPoP request carries the current nonce for the next proof.
    expect(second.headers['dpop-nonce']).toBe(nonce);
  });

  it('asks again for a nonce two steps old, with a fresh one (RFC 9449 §9, §8.1)', async () => {
    const token = await noncedBoundToken();
    const first = await request(nonced).get('/api/items').set('Authorization', `DPoP ${token}`).set('DPoP', await resourceProof(token));
    clock.advance(600_000);
    const late = await request(nonced)
      .get('/api/items')
      .set('Authorization', `DPoP ${token}`)
      .set('DPoP', await resourceProof(token, { nonce: first.headers['dpop-nonce'] }));
    expect(late.status).toBe(401);
    expect(late.body.error).toBe('use_dpop_nonce');
    expect(late.headers['dpop-nonce']).not.toBe(first.headers['dpop-nonce']);
  });

  it('leaves routes without dpopNonce, and bearer tokens on a route that allows them, without nonces', async () => {
    const token = await noncedBoundToken();
    const plain = await request(app).get('/api/items').set('Authorization', `DPoP ${token}`).set('DPoP', await resourceProof(token));
    expect(plain.status).toBe(200);
    expect(plain.headers['dpop-nonce']).toBeUndefined();
    const bearer = (await tokenRequest(await assertionForm())).body.access_token as string;
    const asBearer = await request(nonced).get('/api/items').set('Authorization', `Bearer ${bearer}`);
    expect(asBearer.status).toBe(200);
    expect(asBearer.headers['dpop-nonce']).toBeUndefined();
  });
});

describe('dpopNonce without nonce secrets', () => {
  beforeEach(() => setup());

  it('is refused when the route is defined, for a local guard and a resource server alike', () => {
    expect(() => oauth.requireScope('read', { dpopNonce: true })).toThrow(new TypeError("a guard with dpopNonce needs the instance's dpop.nonceSecrets"));
    expect(() => createResourceServer({ issuer: ISSUER, audience: API, dpopNonce: true })).toThrow(new TypeError('a guard with dpopNonce needs dpopProof.nonceSecrets'));
    const resources = createResourceServer({ issuer: ISSUER, audience: API });
    expect(() => resources.requireScope('read', { dpopNonce: true })).toThrow(new TypeError('a guard with dpopNonce needs dpopProof.nonceSecrets'));
    const withSecrets = createResourceServer({ issuer: ISSUER, audience: API, dpopProof: { nonceSecrets: [NONCE_SECRET] } });
    expect(() => withSecrets.requireScope('read', { dpopNonce: true })).not.toThrow();
  });
});
