// Introspection (RFC 7662), revocation (RFC 7009) and the in-process guard's view of revoked tokens and disabled clients.
import request from 'supertest';
import jwt from 'jsonwebtoken';
import { createOAuth } from '../../lib';
import { type AuditEvent } from '../../lib/core';
import { buildApp, fakeClock, ISSUER, memoryLogger, type TestApp } from '../helpers';

let t: TestApp;
let clock: ReturnType<typeof fakeClock>;
let rs: { id: string; secret: string };
beforeEach(async () => {
  clock = fakeClock();
  t = await buildApp({ clock: clock.now });
  rs = await t.createClient('oauth:introspect', 'resource server');
});
afterEach(() => t.close());

function introspect(token: string, as = rs) {
  return request(t.app).post('/oauth/introspect').auth(as.id, as.secret).type('form').send({ token });
}
function revoke(token: string, as: { id: string; secret: string }, hint?: string) {
  return request(t.app).post('/oauth/revoke').auth(as.id, as.secret).type('form').send({ token, ...(hint ? { token_type_hint: hint } : {}) });
}
function guarded(token: string) {
  return request(t.app).get('/api/items').auth(token, { type: 'bearer' });
}

describe('introspection endpoint (RFC 7662)', () => {
  it('describes an active JWT with the RFC 7662 §2.2 members', async () => {
    const { id, secret } = await t.createClient('read write');
    const token = await t.tokenFor(id, secret, 'read');
    const claims = jwt.decode(token) as Record<string, unknown>;
    const res = await introspect(token);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      active: true,
      scope: 'read',
      client_id: id,
      token_type: 'Bearer',
      exp: claims.exp,
      iat: claims.iat,
      iss: ISSUER,
      aud: ISSUER,
      sub: id,
      jti: claims.jti,
    });
  });

  it('describes an active reference token with the same members', async () => {
    const { client, clientSecret } = await t.oauth.registry.create({ name: 'opaque', scopes: 'read', tokenFormat: 'reference' });
    const token = await t.tokenFor(client.id, clientSecret);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const res = await introspect(token);
    expect(res.body).toMatchObject({ active: true, scope: 'read', client_id: client.id, iss: ISSUER, aud: ISSUER, token_type: 'Bearer' });
  });

  it('issues reference tokens to every client when the instance says so, and the in-process guard accepts them', async () => {
    const opaque = await buildApp({ tokenFormat: 'reference' });
    try {
      const { id, secret } = await opaque.createClient('read');
      const token = await opaque.tokenFor(id, secret);
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const db = (opaque.oauth.server.store as unknown as { db: import('better-sqlite3').Database }).db;
      const row = db.prepare('SELECT token_hash FROM reference_tokens').get() as { token_hash: string };
      expect(row.token_hash).not.toBe(token);
      const res = await request(opaque.app).get('/api/items').auth(token, { type: 'bearer' });
      expect(res.status).toBe(200);
      expect(res.body.auth).toMatchObject({ clientId: id, scopes: ['read'] });
    } finally {
      await opaque.close();
    }
  });

  it.each([
    ['garbage', async () => 'not-a-token'],
    ['an unknown reference token', async () => 'A'.repeat(43)],
    ['a JWT of another issuer', async () => jwt.sign({ iss: 'https://other', sub: 'x', jti: 'j' }, 'k'.repeat(32), { header: { alg: 'HS256', typ: 'at+jwt' } })],
  ])('answers {active:false} and nothing else for %s (RFC 7662 §2.2)', async (_name, make) => {
    const res = await introspect(await make());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ active: false });
  });

  it('answers {active:false} for an expired token', async () => {
    const { id, secret } = await t.createClient('read');
    const token = await t.tokenFor(id, secret);
    clock.advance((3600 + 6) * 1000);
    expect((await introspect(token)).body).toEqual({ active: false });
  });

  it('answers {active:false} for a revoked token and for a disabled client\'s token', async () => {
    const a = await t.createClient('read');
    const b = await t.createClient('read');
    const revoked = await t.tokenFor(a.id, a.secret);
    const disabled = await t.tokenFor(b.id, b.secret);
    expect((await revoke(revoked, a)).status).toBe(200);
    await t.oauth.registry.setEnabled(b.id, false);
    expect((await introspect(revoked)).body).toEqual({ active: false });
    expect((await introspect(disabled)).body).toEqual({ active: false });
  });

  it('refuses a client without the introspection scope with 403 unauthorized_client', async () => {
    const { id, secret } = await t.createClient('read');
    const token = await t.tokenFor(id, secret);
    const res = await introspect(token, { id, secret });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'unauthorized_client', error_description: 'the client may not introspect tokens: it needs the oauth:introspect scope' });
  });

  it('refuses a caller with wrong credentials with 401 invalid_client (RFC 7662 §2.1)', async () => {
    const res = await introspect('x', { id: rs.id, secret: 'wrong-secret' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
    expect(res.headers['www-authenticate']).toBe('Basic realm="oauth", charset="UTF-8"');
  });

  it('requires the token parameter (RFC 7662 §2.1)', async () => {
    const res = await request(t.app).post('/oauth/introspect').auth(rs.id, rs.secret).type('form').send({});
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'the token parameter is missing' });
  });

  it('accepts only POST', async () => {
    const res = await request(t.app).get('/oauth/introspect');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'the introspection endpoint accepts only POST' });
  });
});

describe('revocation endpoint (RFC 7009)', () => {
  it('revokes a token: the in-process guard rejects it at once and an audit event is emitted', async () => {
    const { id, secret } = await t.createClient('read');
    const token = await t.tokenFor(id, secret);
    expect((await guarded(token)).status).toBe(200);
    const events: AuditEvent[] = [];
    t.oauth.events.on('token.revoked', (e: AuditEvent) => events.push(e));
    const res = await revoke(token, { id, secret });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    const after = await guarded(token);
    expect(after.status).toBe(401);
    expect(after.body).toEqual({ error: 'invalid_token', error_description: 'the access token was revoked' });
    const claims = jwt.decode(token) as { jti: string; exp: number };
    expect(events).toEqual([
      { type: 'token.revoked', time: clock.now(), clientId: id, jti: claims.jti, expiresAt: claims.exp * 1000 },
    ]);
  });

  it('answers 200 for an unknown, invalid or already revoked token (RFC 7009 §2.2)', async () => {
    const { id, secret } = await t.createClient('read');
    const token = await t.tokenFor(id, secret);
    expect((await revoke('garbage', { id, secret })).status).toBe(200);
    expect((await revoke(token, { id, secret })).status).toBe(200);
    expect((await revoke(token, { id, secret })).status).toBe(200);
  });

  it('refuses to revoke another client\'s token (RFC 7009 §2.1) and leaves it valid', async () => {
    const owner = await t.createClient('read');
    const other = await t.createClient('read');
    const token = await t.tokenFor(owner.id, owner.secret);
    const res = await revoke(token, other);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'the token was not issued to the client revoking it (RFC 7009 section 2.1)' });
    expect((await guarded(token)).status).toBe(200);
  });

  it('answers unsupported_token_type for a refresh token hint on a token that is none of ours (RFC 7009 §2.2.1)', async () => {
    const { id, secret } = await t.createClient('read');
    const res = await revoke('some-refresh-token', { id, secret }, 'refresh_token');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'unsupported_token_type', error_description: 'this server issues no refresh tokens' });
    const token = await t.tokenFor(id, secret);
    expect((await revoke(token, { id, secret }, 'refresh_token')).status).toBe(200);
    expect((await guarded(token)).status).toBe(401);
  });

  it('revokes a reference token', async () => {
    const { client, clientSecret } = await t.oauth.registry.create({ name: 'opaque', scopes: 'read', tokenFormat: 'reference' });
    const token = await t.tokenFor(client.id, clientSecret);
    expect((await guarded(token)).status).toBe(200);
    await revoke(token, { id: client.id, secret: clientSecret });
    expect((await guarded(token)).status).toBe(401);
  });

  it('keeps a revoked jti only until no verifier would accept the token (exp plus clockTolerance)', async () => {
    const { id, secret } = await t.createClient('read');
    const first = await t.tokenFor(id, secret);
    await revoke(first, { id, secret });
    const db = (t.oauth.server.store as unknown as { db: import('better-sqlite3').Database }).db;
    const count = () => (db.prepare('SELECT count(*) AS n FROM revoked_tokens').get() as { n: number }).n;
    expect(count()).toBe(1);
    clock.advance((3600 + 4) * 1000);
    await revoke(await t.tokenFor(id, secret), { id, secret });
    expect(count()).toBe(2);
    clock.advance(1000);
    await revoke(await t.tokenFor(id, secret), { id, secret });
    const firstJti = (jwt.decode(first) as { jti: string }).jti;
    expect(count()).toBe(2);
    expect((await t.oauth.server.store.listRevokedTokens(clock.now())).map((r) => r.jti)).not.toContain(firstJti);
  });
});

describe('client changes and outstanding tokens', () => {
  it('rejects a disabled client\'s tokens at once and accepts them again when re-enabled', async () => {
    const { id, secret } = await t.createClient('read');
    const token = await t.tokenFor(id, secret);
    await t.oauth.registry.setEnabled(id, false);
    expect((await guarded(token)).body).toEqual({ error: 'invalid_token', error_description: 'the client of this access token is disabled' });
    await t.oauth.registry.setEnabled(id, true);
    expect((await guarded(token)).status).toBe(200);
  });

  it('rejects a deleted client\'s tokens at once', async () => {
    const { id, secret } = await t.createClient('read');
    const token = await t.tokenFor(id, secret);
    await t.oauth.registry.delete(id);
    expect((await guarded(token)).body).toEqual({ error: 'invalid_token', error_description: 'the client of this access token no longer exists' });
  });

  it('voids earlier tokens when the secret is rotated with revokeTokens, and keeps them without it', async () => {
    const { id, secret } = await t.createClient('read');
    const kept = await t.tokenFor(id, secret);
    clock.advance(1000);
    await t.oauth.registry.rotateSecret(id, { graceSeconds: 60 });
    expect((await guarded(kept)).status).toBe(200);
    const { clientSecret } = await t.oauth.registry.rotateSecret(id, { revokeTokens: true });
    expect((await guarded(kept)).body).toEqual({ error: 'invalid_token', error_description: 'the access token was revoked' });
    const fresh = await t.tokenFor(id, clientSecret);
    expect((await guarded(fresh)).status).toBe(200);
  });

  it('sees a revocation and a disabling made by another process at its next change poll', async () => {
    // Only the explicit poll below may notice the change, however slow this machine is.
    await t.close();
    t = await buildApp({ clock: clock.now, syncInterval: 3_600_000 });
    const { id, secret } = await t.createClient('read');
    const other = await t.createClient('read');
    const token = await t.tokenFor(id, secret);
    const otherToken = await t.tokenFor(other.id, other.secret);
    expect((await guarded(token)).status).toBe(200);
    expect((await guarded(otherToken)).status).toBe(200);

    const cli = createOAuth({ issuer: ISSUER, database: t.database, bcryptCost: 4, logger: memoryLogger(), clock: clock.now });
    try {
      await cli.server.revokeToken(await cli.registry.get(id), token);
      await cli.registry.setEnabled(other.id, false);
    } finally {
      await cli.close();
    }
    // Until the poll (every syncInterval, default 500 ms) the change is not known here.
    expect((await guarded(token)).status).toBe(200);
    await t.oauth.server.changes.poll();
    expect((await guarded(token)).body).toEqual({ error: 'invalid_token', error_description: 'the access token was revoked' });
    expect((await guarded(otherToken)).body).toEqual({ error: 'invalid_token', error_description: 'the client of this access token is disabled' });
  });
});
