// The CLI registers private_key_jwt clients (RFC 7523 §2.2, RFC 7591 §2 jwks / jwks_uri) with no secret, replaces their keys, and marks clients as DPoP-bound (RFC 9449 §5.2).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { runCli } from './in-process';
import { createOAuth } from '../../lib';
import { JWT_BEARER_ASSERTION_TYPE } from '../../lib/core/client-auth/private-key-jwt';
import { ISSUER, memoryLogger, tempDir } from '../helpers';

describe('CLI private_key_jwt and DPoP clients', () => {
  it('client create --jwks registers a client without a secret whose assertions get tokens; set-jwks replaces the keys; set-dpop marks it DPoP-bound', async () => {
    const { dir, cleanup } = tempDir();
    const env = { OAUTH_DB: join(dir, 'oauth.sqlite') };
    const oauth = createOAuth({ issuer: ISSUER, database: env.OAUTH_DB, bcryptCost: 4, logger: memoryLogger() });
    const app = express().use(oauth.tokenRouter());
    const first = await generateKeyPair('ES256');
    const second = await generateKeyPair('ES256');
    const writeJwks = async (name: string, key: KeyLike) => {
      const file = join(dir, name);
      writeFileSync(file, JSON.stringify({ keys: [{ ...(await exportJWK(key)), kid: name }] }));
      return file;
    };
    const token = async (id: string, key: KeyLike, kid: string) => {
      const assertion = await new SignJWT({ iss: id, sub: id, aud: ISSUER, jti: randomUUID(), exp: Math.floor(Date.now() / 1000) + 60 })
        .setProtectedHeader({ alg: 'ES256', kid })
        .sign(key);
      return request(app).post('/oauth/token').type('form').send({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: assertion });
    };
    try {
      const created = await runCli(['client', 'create', '--name', 'keyed', '--scope', 'read', '--jwks', await writeJwks('one', first.publicKey), '--json'], env);
      expect(created.code).toBe(0);
      const view = JSON.parse(created.out) as Record<string, unknown>;
      expect(view).not.toHaveProperty('client_secret');
      expect(view).toMatchObject({ secrets: [], jwks_uri: null, dpop_bound_access_tokens: false });
      const id = view.client_id as string;
      expect((await token(id, first.privateKey, 'one')).status).toBe(200);

      expect((await runCli(['client', 'set-jwks', id, '--jwks', await writeJwks('two', second.publicKey)], env)).code).toBe(0);
      expect((await token(id, first.privateKey, 'one')).status).toBe(401);
      expect((await token(id, second.privateKey, 'two')).status).toBe(200);

      expect((await runCli(['client', 'set-dpop', id, 'yes'], env)).code).toBe(0);
      expect((await token(id, second.privateKey, 'two')).body.error).toBe('invalid_dpop_proof');

      const bad = await runCli(['client', 'set-jwks', id, '--jwks-uri', 'http://client.example/jwks'], env);
      expect(bad.code).not.toBe(0);
      expect(bad.err).toMatch(/https/);
      const both = await runCli(['client', 'create', '--name', 'x', '--jwks', 'a', '--jwks-uri', 'https://x.example/jwks'], env);
      expect(both.code).not.toBe(0);
    } finally {
      await oauth.close();
      cleanup();
    }
  });
});
