// CLI changes emit the same audit events as the server's, appended as JSON lines to OAUTH_AUDIT_LOG, never with a secret.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteStore } from '../../lib/store/sqlite';
import { runCli } from './in-process';
import { tempDir } from '../helpers';


describe('CLI audit events', () => {
  it('appends one JSON line per change to OAUTH_AUDIT_LOG, without secrets', async () => {
    const { dir, cleanup } = tempDir();
    const env = { OAUTH_DB: join(dir, 'oauth.sqlite'), OAUTH_AUDIT_LOG: join(dir, 'audit.jsonl') };
    try {
      const created = await runCli(['client', 'create', '--name', 'svc', '--scope', 'read', '--json'], env);
      expect(created.code).toBe(0);
      const { client_id: id, client_secret: secret } = JSON.parse(created.out) as { client_id: string; client_secret: string };
      const rotated = await runCli(['client', 'rotate-secret', id, '--json'], env);
      const newSecret = (JSON.parse(rotated.out) as { client_secret: string }).client_secret;
      expect((await runCli(['client', 'disable', id], env)).code).toBe(0);
      expect((await runCli(['group', 'create', 'ops', '--scope', 'admin'], env)).code).toBe(0);
      expect((await runCli(['key', 'rotate'], env)).code).toBe(0);
      expect((await runCli(['client', 'delete', id], env)).code).toBe(0);

      const text = readFileSync(env.OAUTH_AUDIT_LOG, 'utf8');
      const events = text.trimEnd().split('\n').map((line) => JSON.parse(line) as { type: string; clientId?: string });
      expect(events.map((e) => e.type)).toEqual([
        'client.created',
        'client.secret_rotated',
        'client.disabled',
        'group.created',
        'key.rotated',
        'client.deleted',
      ]);
      expect(events[0]).toMatchObject({ clientId: id, name: 'svc', scopes: ['read'] });
      expect(events[1]).toMatchObject({ clientId: id, previousValidUntil: null, tokensRevoked: true });
      expect(text).not.toContain(secret);
      expect(text).not.toContain(newSecret);
    } finally {
      cleanup();
    }
  });

  it('writes no audit file unless OAUTH_AUDIT_LOG is set', async () => {
    const { dir, cleanup } = tempDir();
    try {
      expect((await runCli(['client', 'create', '--name', 'svc'], { OAUTH_DB: join(dir, 'oauth.sqlite') })).code).toBe(0);
      expect(existsSync(join(dir, 'audit.jsonl'))).toBe(false);
    } finally {
      cleanup();
    }
  });
});

describe('CLI bcrypt cost', () => {
  it('hashes new secrets at OAUTH_BCRYPT_COST, so they cost what the server\'s bcryptCost does', async () => {
    const { dir, cleanup } = tempDir();
    const env = { OAUTH_DB: join(dir, 'oauth.sqlite'), OAUTH_BCRYPT_COST: '5' };
    try {
      const { client_id: id } = JSON.parse((await runCli(['client', 'create', '--name', 'svc', '--json'], env)).out) as { client_id: string };
      const store = SqliteStore.open(env.OAUTH_DB);
      try {
        expect((await store.getClient(id))?.secrets[0]?.hash).toMatch(/^\$2[aby]\$05\$/);
      } finally {
        await store.close();
      }
      const bad = await runCli(['client', 'create', '--name', 'svc'], { ...env, OAUTH_BCRYPT_COST: '3' });
      expect(bad.code).toBe(2);
      expect(bad.err).toContain('OAUTH_BCRYPT_COST must be an integer from 4 to 31');
    } finally {
      cleanup();
    }
  });
});
