// Revocation state: cuts compared to the millisecond, revocations kept through the clock tolerance, a disable that an enable does not undo.
import request from 'supertest';
import jwt from 'jsonwebtoken';
import { buildApp, fakeClock, type TestApp } from '../../helpers';
import { issuedAtMs, newTokenIdAt } from '../../../lib/core/issuing/issuance-time';

let t: TestApp;
let clock: ReturnType<typeof fakeClock>;
afterEach(() => t.close());

async function setUp(options: { clockTolerance?: number } = {}) {
  // A whole second plus 100 ms, so "the same second" below is unambiguous.
  clock = fakeClock(Date.UTC(2026, 0, 1) + 100);
  t = await buildApp({ clock: clock.now, ...options });
}
const guarded = (token: string) => request(t.app).get('/api/items').auth(token, { type: 'bearer' });

describe('token revocation cut', () => {
  it('voids a token issued earlier in the same second as a rotate-and-revoke, and keeps one issued after it', async () => {
    await setUp();
    const { id, secret } = await t.createClient('read');
    const early = await t.tokenFor(id, secret); // .100 s
    clock.advance(700); // .800 s, same second
    const { clientSecret } = await t.oauth.registry.rotateSecret(id, { revokeTokens: true });
    clock.advance(100); // .900 s, still the same second
    const late = await t.tokenFor(id, clientSecret);
    expect((jwt.decode(early) as { iat: number }).iat).toBe((jwt.decode(late) as { iat: number }).iat);
    expect((await guarded(early)).status).toBe(401);
    expect((await guarded(late)).status).toBe(200);
  });

  it('voids a token issued earlier in the same second as a disable, and after an enable the old token stays void', async () => {
    await setUp();
    const { id, secret } = await t.createClient('read');
    const early = await t.tokenFor(id, secret);
    clock.advance(700);
    await t.oauth.registry.setEnabled(id, false);
    expect((await guarded(early)).status).toBe(401);
    clock.advance(100);
    await t.oauth.registry.setEnabled(id, true);
    expect((await guarded(early)).status).toBe(401);
    // The client itself works again: a new token is good.
    expect((await guarded(await t.tokenFor(id, secret))).status).toBe(200);
  });

  it('keeps a token issued before a disable void after a re-enable, seconds later (disabling stops a compromised client)', async () => {
    await setUp();
    const { id, secret } = await t.createClient('read');
    const before = await t.tokenFor(id, secret);
    clock.advance(5000);
    await t.oauth.registry.setEnabled(id, false);
    clock.advance(60_000);
    await t.oauth.registry.setEnabled(id, true);
    const res = await guarded(before);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('reads the issuance millisecond from the jti, and falls back to the start of iat\'s second for a jti without it', () => {
    const at = Date.UTC(2026, 0, 1) + 123;
    const iat = Math.floor(at / 1000);
    expect(issuedAtMs({ jti: newTokenIdAt(at), iat })).toBe(at);
    expect(issuedAtMs({ jti: 'AAAAAAAAAAAAAAAAAAAAAA', iat })).toBe(iat * 1000);
    // A time that disagrees with the signed iat is not believed.
    expect(issuedAtMs({ jti: newTokenIdAt(at + 5000), iat })).toBe(iat * 1000);
  });
});

describe('revoked token (RFC 7009) and the clock tolerance', () => {
  it('stays revoked until exp plus clockTolerance, while the verifier would still accept it', async () => {
    await setUp({ clockTolerance: 60 });
    const { id, secret } = await t.createClient('read');
    const token = await t.tokenFor(id, secret);
    const revoked = await request(t.app).post('/oauth/revoke').auth(id, secret).type('form').send({ token });
    expect(revoked.status).toBe(200);
    expect((await guarded(token)).status).toBe(401);
    const exp = (jwt.decode(token) as { exp: number }).exp * 1000;
    clock.set(exp + 10_000);
    // Another revocation purges expired entries on write: it must not take this one with it.
    const other = await t.createClient('read', 'other');
    const otherToken = await t.tokenFor(other.id, other.secret);
    await request(t.app).post('/oauth/revoke').auth(other.id, other.secret).type('form').send({ token: otherToken });
    t.oauth.server.revocation.invalidate();
    expect((await guarded(token)).status).toBe(401);
    clock.set(exp + 60_000);
    expect((await guarded(token)).status).toBe(401);
  });
});
