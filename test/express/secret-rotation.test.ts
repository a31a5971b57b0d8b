// Secret rotation with a grace period (RFC 6749 §2.3.1 credentials): the old secret works until its expiry, at most two are valid, and a fleet rolling over sees no failed request.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import request from 'supertest';
import { buildApp, fakeClock, type TestApp } from '../helpers';

let t: TestApp;
const clock = fakeClock();
beforeEach(async () => {
  clock.set(Date.UTC(2026, 0, 1));
  t = await buildApp({ clock: clock.now });
});
afterEach(() => t.close());

async function status(id: string, secret: string, target: Parameters<typeof request>[0] = t.app): Promise<number> {
  const res = await request(target).post('/oauth/token').auth(id, secret).type('form').send({ grant_type: 'client_credentials' });
  return res.status;
}

describe('secret rotation', () => {
  it('keeps the old secret valid until the grace period ends, then refuses it with invalid_client', async () => {
    const { id, secret: old } = await t.createClient('read');
    const { clientSecret: fresh, client } = await t.oauth.registry.rotateSecret(id, { graceSeconds: 3600 });
    expect(client.secrets.map((s) => s.expiresAt)).toEqual([null, Date.UTC(2026, 0, 1) + 3600_000]);
    expect(await status(id, old)).toBe(200);
    expect(await status(id, fresh)).toBe(200);
    clock.advance(3600_000 - 1);
    expect(await status(id, old)).toBe(200);
    clock.advance(1);
    expect(await status(id, old)).toBe(401);
    expect(await status(id, fresh)).toBe(200);
  });

  it('cuts the old secret at once with a grace of 0', async () => {
    const { id, secret: old } = await t.createClient('read');
    const { clientSecret: fresh, client } = await t.oauth.registry.rotateSecret(id, { graceSeconds: 0 });
    expect(client.secrets).toHaveLength(1);
    expect(await status(id, old)).toBe(401);
    expect(await status(id, fresh)).toBe(200);
  });

  describe('outstanding tokens after a rotation', () => {
    const guarded = (token: string) => request(t.app).get('/api/items').set('Authorization', `Bearer ${token}`);

    it('voids the tokens issued before a rotation without grace (a leak), unless asked to keep them', async () => {
      const { id, secret } = await t.createClient('read');
      const before = await t.tokenFor(id, secret);
      clock.advance(1000);
      const { clientSecret } = await t.oauth.registry.rotateSecret(id);
      const refused = await guarded(before);
      expect(refused.status).toBe(401);
      expect(refused.body).toEqual({ error: 'invalid_token', error_description: 'the access token was revoked' });
      expect((await guarded(await t.tokenFor(id, clientSecret))).status).toBe(200);

      const kept = await t.tokenFor(id, clientSecret);
      clock.advance(1000);
      await t.oauth.registry.rotateSecret(id, { revokeTokens: false });
      expect((await guarded(kept)).status).toBe(200);
    });

    it('lets the tokens issued before a rotation with grace live until they expire, unless asked to void them', async () => {
      const { id, secret } = await t.createClient('read');
      const before = await t.tokenFor(id, secret);
      clock.advance(1000);
      const { clientSecret } = await t.oauth.registry.rotateSecret(id, { graceSeconds: 3600 });
      expect((await guarded(before)).status).toBe(200);

      const second = await t.tokenFor(id, clientSecret);
      clock.advance(1000);
      await t.oauth.registry.rotateSecret(id, { graceSeconds: 3600, revokeTokens: true });
      expect((await guarded(second)).status).toBe(401);
    });
  });

  it('keeps at most two secrets valid: a second rotation ends the first secret\'s grace at once', async () => {
    const { id, secret: first } = await t.createClient('read');
    const { clientSecret: second } = await t.oauth.registry.rotateSecret(id, { graceSeconds: 3600 });
    const { clientSecret: third, client } = await t.oauth.registry.rotateSecret(id, { graceSeconds: 3600 });
    expect(client.secrets).toHaveLength(2);
    expect(await status(id, first)).toBe(401);
    expect(await status(id, second)).toBe(200);
    expect(await status(id, third)).toBe(200);
  });

  it('refuses a negative or non-finite grace, naming the field, and keeps the secret', async () => {
    const { id, secret } = await t.createClient('read');
    for (const graceSeconds of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(t.oauth.registry.rotateSecret(id, { graceSeconds })).rejects.toMatchObject({ code: 'invalid', field: 'grace' });
    }
    expect(await status(id, secret)).toBe(200);
  });

  it('serves every token request of a fleet that switches to the new secret during a rotation', async () => {
    const server: Server = t.app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const { port } = server.address() as AddressInfo;
    const base = `http://127.0.0.1:${port}`;
    try {
      const { id, secret: initial } = await t.createClient('read');
      let published = initial;
      let rotated = false;
      const results: { status: number; oldAfterRotation: boolean }[] = [];
      const ROUNDS = 12;
      // Instances of a fleet learn of the new secret at different times (worker k after 3k more
      // requests), so the old secret keeps arriving after the rotation, as it does in a real rollout.
      const worker = async (lag: number) => {
        let mine = initial;
        let seenAt: number | undefined;
        for (let i = 0; i < ROUNDS; i++) {
          if (published !== mine) {
            seenAt ??= i;
            if (i - seenAt >= lag) mine = published;
          }
          const oldAfterRotation = rotated && mine === initial;
          results.push({ status: await status(id, mine, base), oldAfterRotation });
        }
      };
      const rotation = (async () => {
        while (results.length < ROUNDS) await new Promise((r) => setImmediate(r));
        const { clientSecret } = await t.oauth.registry.rotateSecret(id, { graceSeconds: 300 });
        rotated = true;
        published = clientSecret;
      })();
      await Promise.all([worker(0), worker(3), worker(6), rotation]);
      expect(results).toHaveLength(ROUNDS * 3);
      expect(results.filter((r) => r.status !== 200)).toEqual([]);
      expect(results.filter((r) => r.oldAfterRotation).length).toBeGreaterThan(0);
      expect(await status(id, initial, base)).toBe(200);
      clock.advance(300_000);
      expect(await status(id, initial, base)).toBe(401);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
