// The CLI's rotate-secret and the tokens already issued: revoked by default without --grace, kept with it, and --keep-tokens / --revoke-tokens choosing the other way.
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { runCli } from './in-process';
import { createOAuth, oauthErrorHandler, type OAuth } from '../../lib';
import { fakeClock, ISSUER, memoryLogger, tempDir } from '../helpers';

let oauth: OAuth;
let cleanup: () => void;
let env: Record<string, string>;
let app: express.Express;
const clock = fakeClock();

beforeEach(() => {
  clock.set(Date.UTC(2026, 0, 1));
  const dir = tempDir();
  cleanup = dir.cleanup;
  env = { OAUTH_DB: join(dir.dir, 'oauth.sqlite'), OAUTH_BCRYPT_COST: '4' };
  // The CLI is another connection: only the explicit poll below may notice its change.
  oauth = createOAuth({ issuer: ISSUER, database: env.OAUTH_DB, bcryptCost: 4, logger: memoryLogger(), clock: clock.now, syncInterval: 3_600_000 });
  app = express();
  app.use(oauth.tokenRouter());
  app.get('/api/items', oauth.requireScope('read'), (_req, res) => res.json({ ok: true }));
  app.use(oauthErrorHandler());
});
afterEach(async () => {
  await oauth.close();
  cleanup();
});

/** Issues a token, rotates the secret with the CLI two seconds later, and returns what the guard then says of the token. */
async function afterRotation(args: string[]): Promise<{ status: number; body: unknown }> {
  const { client, clientSecret } = await oauth.registry.create({ name: 'svc', scopes: 'read' });
  const token = await request(app).post('/oauth/token').auth(client.id, clientSecret).type('form').send({ grant_type: 'client_credentials' });
  expect(token.status).toBe(200);
  expect((await request(app).get('/api/items').auth(token.body.access_token, { type: 'bearer' })).status).toBe(200);
  // Revocation is by issue time in whole seconds: the rotation comes in a later second.
  clock.advance(2000);
  const rotated = await runCli(['client', 'rotate-secret', client.id, ...args], env, clock.now);
  expect(rotated.code).toBe(0);
  await oauth.server.changes.poll();
  const res = await request(app).get('/api/items').auth(token.body.access_token, { type: 'bearer' });
  return { status: res.status, body: res.body };
}

const REVOKED = { status: 401, body: { error: 'invalid_token', error_description: 'the access token was revoked' } };
const KEPT = { status: 200, body: { ok: true } };

describe('client rotate-secret and issued tokens', () => {
  it('without --grace, voids the tokens issued so far (a leaked secret)', async () => {
    expect(await afterRotation([])).toEqual(REVOKED);
  });

  it('without --grace but with --keep-tokens, lets them live until they expire', async () => {
    expect(await afterRotation(['--keep-tokens'])).toEqual(KEPT);
  });

  it('with --grace, lets them live until they expire (a planned roll-over)', async () => {
    expect(await afterRotation(['--grace', '1h'])).toEqual(KEPT);
  });

  it('with --grace and --revoke-tokens, voids them', async () => {
    expect(await afterRotation(['--grace', '1h', '--revoke-tokens'])).toEqual(REVOKED);
  });

  it('refuses --revoke-tokens with --keep-tokens, and rotates nothing', async () => {
    const { client, clientSecret } = await oauth.registry.create({ name: 'svc', scopes: 'read' });
    const res = await runCli(['client', 'rotate-secret', client.id, '--revoke-tokens', '--keep-tokens'], env, clock.now);
    expect(res.code).not.toBe(0);
    expect(res.err).toContain('--revoke-tokens and --keep-tokens exclude each other');
    await oauth.server.changes.poll();
    expect((await request(app).post('/oauth/token').auth(client.id, clientSecret).type('form').send({ grant_type: 'client_credentials' })).status).toBe(200);
  });
});
