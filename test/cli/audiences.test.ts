// The CLI covers the rest of the client life cycle: renaming, and the audiences (RFC 8707) a client or a group may ask tokens for.
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { runCli } from './in-process';
import { createOAuth } from '../../lib';
import { ISSUER, memoryLogger, tempDir } from '../helpers';


describe('CLI audiences and rename', () => {
  it('sets a client\'s and a group\'s audiences, seen by the next token request for that resource', async () => {
    const { dir, cleanup } = tempDir();
    const env = { OAUTH_DB: join(dir, 'oauth.sqlite') };
    const oauth = createOAuth({ issuer: ISSUER, database: env.OAUTH_DB, bcryptCost: 4, logger: memoryLogger() });
    const app = express().use(oauth.tokenRouter());
    const token = (id: string, secret: string, resource: string) =>
      request(app).post('/oauth/token').auth(id, secret).type('form').send({ grant_type: 'client_credentials', resource });
    try {
      const created = JSON.parse((await runCli(['client', 'create', '--name', 'svc', '--scope', 'read', '--json'], env)).out) as {
        client_id: string;
        client_secret: string;
      };
      const { client_id: id, client_secret: secret } = created;
      expect((await token(id, secret, 'https://orders.internal')).body.error).toBe('invalid_target');

      const set = await runCli(['client', 'set-audience', id, 'https://orders.internal urn:example:billing', '--json'], env);
      expect(set.code).toBe(0);
      expect(JSON.parse(set.out)).toMatchObject({ audiences: ['https://orders.internal', 'urn:example:billing'] });
      const granted = await token(id, secret, 'https://orders.internal');
      expect(granted.status).toBe(200);

      expect((await runCli(['group', 'create', 'ops', '--scope', 'read'], env)).code).toBe(0);
      expect((await runCli(['group', 'set-audience', 'ops', 'https://metrics.internal'], env)).code).toBe(0);
      expect((await runCli(['client', 'add-group', id, 'ops'], env)).code).toBe(0);
      expect((await token(id, secret, 'https://metrics.internal')).status).toBe(200);

      expect((await runCli(['client', 'set-audience', id, ''], env)).code).toBe(0);
      expect((await token(id, secret, 'https://orders.internal')).body.error).toBe('invalid_target');

      const renamed = await runCli(['client', 'rename', id, 'orders worker', '--json'], env);
      expect(JSON.parse(renamed.out)).toMatchObject({ client_name: 'orders worker' });
    } finally {
      await oauth.close();
      cleanup();
    }
  });

  it.each([['a#frag'], ['has"quote'], ['billing']])(
    'refuses the audience %j, which the token endpoint could never be asked for (RFC 8707 §2: absolute URI, no fragment)',
    async (audience) => {
      const { dir, cleanup } = tempDir();
      const env = { OAUTH_DB: join(dir, 'oauth.sqlite') };
      try {
        const id = (JSON.parse((await runCli(['client', 'create', '--name', 'svc', '--json'], env)).out) as { client_id: string }).client_id;
        const res = await runCli(['client', 'set-audience', id, audience], env);
        expect(res.code).toBe(1);
        expect(res.err).toMatch(/^express-client-credentials: audience .* must (not include a fragment|be an absolute URI)/);
        expect((await runCli(['client', 'create', '--name', 'svc2', '--audience', audience], env)).code).toBe(1);
        const shown = JSON.parse((await runCli(['client', 'show', id, '--json'], env)).out) as { audiences: string[] };
        expect(shown.audiences).toEqual([]);
      } finally {
        cleanup();
      }
    },
  );

  it('refuses an unknown client with exit 1 and one line on stderr', async () => {
    const { dir, cleanup } = tempDir();
    const env = { OAUTH_DB: join(dir, 'oauth.sqlite') };
    try {
      expect((await runCli(['client', 'create', '--name', 'svc'], env)).code).toBe(0);
      const res = await runCli(['client', 'set-audience', 'nope', 'https://x.example'], env);
      expect(res.code).toBe(1);
      expect(res.err).toBe('express-client-credentials: no client with id "nope"\n');
    } finally {
      cleanup();
    }
  });
});
