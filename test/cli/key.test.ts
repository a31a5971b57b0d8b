// The `key` CLI commands: rotate makes a new key active and keeps the old one published; list shows both.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './in-process';
import { SqliteStore } from '../../lib/store/sqlite';
import { fakeClock, tempDir } from '../helpers';


describe('key CLI', () => {
  it('refuses to rotate in a database that does not exist, and creates no file (a mistyped --db)', async () => {
    const { dir, cleanup } = tempDir();
    const db = join(dir, 'typo.sqlite');
    try {
      const res = await runCli(['key', 'rotate', '--db', db], {}, Date.now);
      expect(res.code).toBe(1);
      expect(res.err).toBe(`express-client-credentials: no database at ${db} (give --db PATH or set OAUTH_DB)\n`);
      expect(existsSync(db)).toBe(false);
    } finally {
      cleanup();
    }
  });


  it('rotates the signing key and lists the old one until it retires', async () => {
    const { dir, cleanup } = tempDir();
    const db = join(dir, 'oauth.sqlite');
    const clock = fakeClock();
    try {
      await (await SqliteStore.open(db)).close(); // an existing, empty database: rotate creates its first key
      const first = await runCli(['key', 'rotate', '--db', db, '--json'], {}, clock.now);
      expect(first.code).toBe(0);
      const created = JSON.parse(first.out);
      expect(created).toMatchObject({ alg: 'RS256', previous_kid: null, previous_retire_at: null });

      const second = await runCli(['key', 'rotate', '--db', db, '--token-lifetime', '1h', '--json'], {}, clock.now);
      const rotated = JSON.parse(second.out);
      expect(rotated).toMatchObject({ alg: 'RS256', previous_kid: created.kid, previous_retire_at: new Date(clock.now() + 3_600_000).toISOString() });

      const listed = JSON.parse((await runCli(['key', 'list', '--db', db, '--json'], {}, clock.now)).out);
      expect(listed.map((k: { kid: string; active: boolean }) => [k.kid, k.active])).toEqual([
        [rotated.kid, true],
        [created.kid, false],
      ]);
      clock.advance(3_600_000);
      const later = JSON.parse((await runCli(['key', 'list', '--db', db, '--json'], {}, clock.now)).out);
      expect(later.map((k: { kid: string }) => k.kid)).toEqual([rotated.kid]);

      const store = SqliteStore.open(db);
      expect((await store.listSigningKeys(clock.now()))[0]?.kid).toBe(rotated.kid);
      await store.close();
    } finally {
      cleanup();
    }
  });

  it('refuses an unknown algorithm with exit status 2 and changes nothing', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const res = await runCli(['key', 'rotate', '--db', join(dir, 'x.sqlite'), '--alg', 'HS256'], {}, Date.now);
      expect(res.code).toBe(2);
      expect(res.err).toBe("express-client-credentials: --alg must be one of RS256, ES256 (see 'express-client-credentials key rotate --help')\n");
      expect(res.out).toBe('');
      expect(existsSync(join(dir, 'x.sqlite'))).toBe(false);
    } finally {
      cleanup();
    }
  });
});

describe('client create CLI audiences', () => {
  it('registers a client with audiences and a token format', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const res = await runCli(
        ['client', 'create', '--db', join(dir, 'c.sqlite'), '--name', 'shop', '--scope', 'read', '--audience', 'https://orders.internal https://billing.internal', '--token-format', 'reference', '--json'],
        {},
        Date.now,
      );
      expect(res.code).toBe(0);
      expect(JSON.parse(res.out)).toMatchObject({ audiences: ['https://orders.internal', 'https://billing.internal'], token_format: 'reference' });
    } finally {
      cleanup();
    }
  });

  it('refuses an unknown token format with exit status 2, changing nothing', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const res = await runCli(['client', 'create', '--db', join(dir, 'c.sqlite'), '--name', 'shop', '--token-format', 'paseto'], {}, Date.now);
      expect(res.code).toBe(2);
      expect(res.err).toBe("express-client-credentials: --token-format must be jwt or reference (see 'express-client-credentials client create --help')\n");
      expect(existsSync(join(dir, 'c.sqlite'))).toBe(false);
    } finally {
      cleanup();
    }
  });
});
