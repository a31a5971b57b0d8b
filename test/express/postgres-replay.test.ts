// Replays across instances (issue 14): a client assertion or a DPoP proof used at one instance is refused by a second instance on the same PostgreSQL schema, because the jti is claimed in the shared store.
import express, { type Express } from 'express';
import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';
import { createOAuth, oauthErrorHandler, type OAuth } from '../../lib';
import { accessTokenHash } from '../../lib/core/dpop/proof';
import { JWT_BEARER_ASSERTION_TYPE } from '../../lib/core/client-auth/private-key-jwt';
import { fakeClock, ISSUER, memoryLogger } from '../helpers';
import { freshSchema, pgAvailable } from '../support/stores';

const describePg = pgAvailable() ? describe : describe.skip;
const TOKEN_URL = `${ISSUER}/oauth/token`;
const API = 'https://api.test';

interface Keys {
  privateKey: KeyLike;
  jwk: JWK;
}

async function keys(kid?: string): Promise<Keys> {
  const pair = await generateKeyPair('ES256');
  return { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), ...(kid ? { kid } : {}) } };
}

describePg('replays sent to a second instance on the same PostgreSQL schema (issue 14)', () => {
  // One clock for both instances, as two processes on synchronised hosts would have.
  const clock = fakeClock(Date.UTC(2026, 0, 1, 12));
  const seconds = () => Math.floor(clock.now() / 1000);
  let db: Awaited<ReturnType<typeof freshSchema>>;
  let instances: OAuth[] = [];
  let a: Express;
  let b: Express;
  let clientKeys: Keys;
  let dpopKeys: Keys;
  let clientId: string;

  function open(): OAuth {
    const oauth = createOAuth({ issuer: ISSUER, database: db.url, bcryptCost: 4, logger: memoryLogger(), clock: clock.now });
    instances.push(oauth);
    return oauth;
  }

  function appOf(oauth: OAuth): Express {
    const app = express();
    app.use(oauth.tokenRouter());
    app.get('/api/items', oauth.requireScope('read', { publicBaseUrl: API }), (req, res) => res.json({ client: req.auth?.clientId }));
    app.use(oauthErrorHandler());
    return app;
  }

  beforeAll(async () => {
    db = await freshSchema();
    const first = open();
    await first.ready();
    clientKeys = await keys('c1');
    dpopKeys = await keys();
    // Registered before the second instance starts, so it reads the client at start rather than from a notification.
    clientId = (await first.registry.createWithKeys({ name: 'keyed', scopes: 'read' }, { jwks: { keys: [clientKeys.jwk] } })).id;
    const second = open();
    await second.ready();
    a = appOf(first);
    b = appOf(second);
  });
  afterAll(async () => {
    await Promise.all(instances.map((oauth) => oauth.close()));
    instances = [];
    await db?.drop();
  });

  function assertionForm(): Promise<Record<string, string>> {
    return new SignJWT({ iss: clientId, sub: clientId, aud: ISSUER, jti: randomUUID(), iat: seconds(), exp: seconds() + 60 })
      .setProtectedHeader({ alg: 'ES256', kid: 'c1' })
      .sign(clientKeys.privateKey)
      .then((assertion) => ({ client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: assertion }));
  }

  function proof(claims: Record<string, unknown> = {}): Promise<string> {
    return new SignJWT({ jti: randomUUID(), htm: 'POST', htu: TOKEN_URL, iat: seconds(), ...claims })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: dpopKeys.jwk } as never)
      .sign(dpopKeys.privateKey);
  }

  function tokenRequest(app: Express, form: Record<string, string>, headers: Record<string, string> = {}) {
    let req = request(app).post('/oauth/token').type('form');
    for (const [name, value] of Object.entries(headers)) req = req.set(name, value);
    return req.send({ grant_type: 'client_credentials', ...form });
  }

  function resourceProof(token: string): Promise<string> {
    return proof({ htm: 'GET', htu: `${API}/api/items`, ath: accessTokenHash(token) });
  }

  it('refuses a client assertion replayed at the other instance with invalid_client (RFC 7523 §3 item 7: a jti is used once)', async () => {
    const form = await assertionForm();
    expect((await tokenRequest(a, form)).status).toBe(200);
    const replay = await tokenRequest(b, form);
    expect(replay.status).toBe(401);
    expect(replay.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
    // The same client with a fresh assertion is served there: the refusal was the replay's.
    expect((await tokenRequest(b, await assertionForm())).status).toBe(200);
  });

  it('refuses a DPoP proof replayed at the other instance\'s token endpoint with invalid_dpop_proof (RFC 9449 §11.1)', async () => {
    const p = await proof();
    const used = await tokenRequest(a, await assertionForm(), { DPoP: p });
    expect(used.status).toBe(200);
    expect(used.body.token_type).toBe('DPoP');
    const replay = await tokenRequest(b, await assertionForm(), { DPoP: p });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_dpop_proof');
    expect(replay.body).not.toHaveProperty('access_token');
    expect((await tokenRequest(b, await assertionForm(), { DPoP: await proof() })).status).toBe(200);
  });

  it('refuses a DPoP proof replayed at the other instance\'s guard with invalid_dpop_proof (RFC 9449 §11.1)', async () => {
    const issued = await tokenRequest(a, await assertionForm(), { DPoP: await proof() });
    expect(issued.status).toBe(200);
    const token = issued.body.access_token as string;
    const p = await resourceProof(token);
    expect((await request(a).get('/api/items').set('Authorization', `DPoP ${token}`).set('DPoP', p)).status).toBe(200);
    const replay = await request(b).get('/api/items').set('Authorization', `DPoP ${token}`).set('DPoP', p);
    expect(replay.status).toBe(401);
    expect(replay.body.error).toBe('invalid_dpop_proof');
    expect(replay.headers['www-authenticate']).toMatch(/^DPoP .*error="invalid_dpop_proof"/);
    // The token itself is good at the other instance with a fresh proof.
    expect((await request(b).get('/api/items').set('Authorization', `DPoP ${token}`).set('DPoP', await resourceProof(token))).status).toBe(200);
  });
});
