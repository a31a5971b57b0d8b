// Keys at rest: an owner-only database file, private keys encrypted with keySecret, a private half dropped once its key stops signing.
import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import request from 'supertest';
import { createOAuth } from '../../lib';
import { SqliteStore } from '../../lib/store/sqlite';
import { KeyEncryptionError } from '../../lib/core/tokens/key-encryption';
import { buildApp, fakeClock, ISSUER, memoryLogger, tempDir } from '../helpers';

const SECRET = 'k'.repeat(16) + 'a-long-random-key-secret';
const NEXT_SECRET = 'n'.repeat(16) + 'the-next-key-secret-value';

/** The private_key column as a database dump would show it. */
function dumpedPrivateKeys(file: string): (string | null)[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT private_key FROM signing_keys ORDER BY created_at').pluck().all() as (string | null)[];
  } finally {
    db.close();
  }
}

/** Runs `fn` under umask 022 (the usual default), so a file created world-readable would show it. */
function withUmask022<T>(fn: () => T): T {
  const previous = process.umask(0o022);
  try {
    return fn();
  } finally {
    process.umask(previous);
  }
}

describe('database files', () => {
  it('creates the database and its -wal and -shm owner-only (0600), whatever the umask', async () => {
    const { dir, cleanup } = tempDir();
    const file = join(dir, 'oauth.sqlite');
    try {
      const store = withUmask022(() => SqliteStore.open(file));
      await store.ensureSigningKey({
        kid: 'k', alg: 'ES256', privateKeyPem: 'x', publicJwk: { kty: 'EC', kid: 'k', alg: 'ES256', use: 'sig' },
        createdAt: 0, active: true, retireAt: null,
      });
      for (const suffix of ['', '-wal', '-shm']) expect((statSync(`${file}${suffix}`).mode & 0o777).toString(8)).toBe('600');
      await store.close();
    } finally {
      cleanup();
    }
  });

  it('tightens an existing database every user could read, and says so loudly', async () => {
    const { dir, cleanup } = tempDir();
    const file = join(dir, 'oauth.sqlite');
    try {
      await SqliteStore.open(file).close();
      chmodSync(file, 0o644);
      const warnings: string[] = [];
      await SqliteStore.open(file, { onWarning: (m) => warnings.push(m) }).close();
      expect((statSync(file).mode & 0o777).toString(8)).toBe('640');
      expect(warnings).toEqual([expect.stringMatching(/was accessible to every user \(mode 644\).*rotate them/)]);
      chmodSync(file, 0o640);
      warnings.length = 0;
      await SqliteStore.open(file, { onWarning: (m) => warnings.push(m) }).close();
      expect(warnings).toEqual([expect.stringMatching(/accessible to its group \(mode 640\)/)]);
    } finally {
      cleanup();
    }
  });
});

describe('private signing keys at rest', () => {
  it('stores private keys encrypted when keySecret is given: a dump holds no PEM, and tokens still verify', async () => {
    const t = await buildApp({ keySecret: SECRET });
    try {
      const { id, secret } = await t.createClient('read');
      const token = await t.tokenFor(id, secret);
      expect((await request(t.app).get('/api/items').auth(token, { type: 'bearer' })).status).toBe(200);
      const [stored] = dumpedPrivateKeys(t.database);
      expect(stored).toMatch(/^ecc-kek1\./);
      expect(stored).not.toContain('PRIVATE KEY');
    } finally {
      await t.close();
    }
  });

  it('encrypts clear keys when a secret is first configured, and reseals under a new first secret', async () => {
    const { dir, cleanup } = tempDir();
    const database = join(dir, 'oauth.sqlite');
    const open = (keySecret?: string[]) =>
      createOAuth({ issuer: ISSUER, database, bcryptCost: 4, logger: memoryLogger(), ...(keySecret ? { keySecret } : {}) });
    try {
      const plain = open();
      const kid = (await plain.server.keys.getSigner()).kid;
      await plain.close();
      expect(dumpedPrivateKeys(database)[0]).toContain('PRIVATE KEY');

      const sealed = open([SECRET]);
      await sealed.ready();
      expect((await sealed.server.keys.getSigner()).kid).toBe(kid);
      await sealed.close();
      const first = dumpedPrivateKeys(database)[0];
      expect(first).toMatch(/^ecc-kek1\./);

      const rotated = open([NEXT_SECRET, SECRET]);
      await rotated.ready();
      await rotated.close();
      const second = dumpedPrivateKeys(database)[0];
      expect(second).toMatch(/^ecc-kek1\./);
      expect(second?.split('.')[1]).not.toBe(first?.split('.')[1]);

      const onlyNext = open([NEXT_SECRET]);
      await onlyNext.ready();
      expect((await onlyNext.server.keys.getSigner()).kid).toBe(kid);
      await onlyNext.close();
    } finally {
      cleanup();
    }
  });

  it('reseals keys under an older secret only at start-up, so instances mid-rollout never reseal back and forth', async () => {
    const { dir, cleanup } = tempDir();
    const database = join(dir, 'oauth.sqlite');
    const open = (keySecret: string[]) => createOAuth({ issuer: ISSUER, database, bcryptCost: 4, logger: memoryLogger(), keySecret });
    try {
      const next = open([NEXT_SECRET, SECRET]);
      await next.server.keys.getSigner();
      const current = open([SECRET, NEXT_SECRET]);
      await current.ready(); // its start-up reseals under SECRET, its first secret
      const underCurrent = dumpedPrivateKeys(database)[0];
      // A later reload of the other instance (after any change) leaves the key as it is.
      next.server.keys.invalidate();
      await next.server.keys.getSigner();
      current.server.keys.invalidate();
      await current.server.keys.getSigner();
      expect(dumpedPrivateKeys(database)[0]).toBe(underCurrent);
      await Promise.all([next.close(), current.close()]);
    } finally {
      cleanup();
    }
  });

  it('refuses to start with a wrong or missing secret, and never makes a new key in place of the sealed one', async () => {
    const { dir, cleanup } = tempDir();
    const database = join(dir, 'oauth.sqlite');
    try {
      const first = createOAuth({ issuer: ISSUER, database, bcryptCost: 4, logger: memoryLogger(), keySecret: SECRET });
      await first.server.keys.getSigner();
      await first.close();
      for (const keySecret of [NEXT_SECRET, undefined]) {
        const logger = memoryLogger();
        const t = await buildApp({ database, logger, ...(keySecret ? { keySecret } : {}) });
        try {
          await expect(t.oauth.ready()).rejects.toBeInstanceOf(KeyEncryptionError);
          expect(logger.lines.some((l) => l.startsWith('error the signing keys cannot be loaded: signing key'))).toBe(true);
          const { id, secret } = await t.createClient('read');
          const res = await request(t.app).post('/oauth/token').auth(id, secret).type('form').send({ grant_type: 'client_credentials' });
          expect(res.status).toBe(500);
          expect(res.body).toEqual({ error: 'server_error' });
          expect(dumpedPrivateKeys(database)).toHaveLength(1);
        } finally {
          await t.oauth.close();
        }
      }
    } finally {
      cleanup();
    }
  });

  it('drops the private half of a key when it stops signing, and the whole key once it is no longer published', async () => {
    const clock = fakeClock();
    const t = await buildApp({ clock: clock.now });
    try {
      await t.oauth.server.keys.getSigner();
      await t.oauth.server.rotateSigningKey();
      const rows = () => {
        const db = new Database(t.database, { readonly: true });
        try {
          return db.prepare('SELECT active, private_key IS NOT NULL AS has_private FROM signing_keys ORDER BY created_at, active').all();
        } finally {
          db.close();
        }
      };
      expect(rows()).toEqual([{ active: 0, has_private: 0 }, { active: 1, has_private: 1 }]);
      clock.advance((3600 + 5) * 1000);
      await t.oauth.server.rotateSigningKey();
      expect(rows()).toEqual([{ active: 0, has_private: 0 }, { active: 1, has_private: 1 }]);
    } finally {
      await t.close();
    }
  });
});
