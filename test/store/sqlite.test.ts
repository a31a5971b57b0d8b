// What only the SQLite store does: migrations recorded in user_version, WAL, foreign keys, a newer schema or an unopenable file refused (the shared behaviour is in ./contract.test.ts).
import { join } from 'node:path';
import { chmodSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { SqliteStore, openSqliteDatabase } from '../../lib/store/sqlite';
import { StoreError } from '../../lib/store';
import { MIGRATIONS } from '../../lib/store/migrations';
import { tempDir } from '../helpers';
import { generateSigningKey } from '../../lib/core/tokens/keys';

let dir: string;
let cleanup: () => void;
let path: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  path = join(dir, 'oauth.sqlite');
});
afterEach(() => cleanup());


async function withStore<T>(fn: (store: SqliteStore) => Promise<T>): Promise<T> {
  const store = SqliteStore.open(path);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const NOW = Date.UTC(2026, 0, 1);

describe('SQLite store', () => {
  it('applies every migration at open and records the version in PRAGMA user_version', async () => {
    await withStore(async (store) => {
      expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      const tables = store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
      expect(tables).toEqual(expect.arrayContaining(['client_secrets', 'clients', 'meta', 'signing_keys']));
    });
    // Opening again applies nothing twice.
    await withStore(async (store) => expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length));
  });

  it('opens the database in WAL mode with foreign keys on', async () => {
    await withStore(async (store) => {
      expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    });
  });

  it('refuses a database written by a newer schema version and changes nothing', async () => {
    const db = new Database(path);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    let error: unknown;
    try {
      SqliteStore.open(path);
    } catch (err: unknown) {
      error = err;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({
      code: 'schema',
      message: `database schema version ${MIGRATIONS.length + 1} is newer than this library understands (${MIGRATIONS.length}): ${path}`,
    });
    const check = new Database(path, { readonly: true });
    expect(check.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get()).toBe(0);
    expect(check.pragma('journal_mode', { simple: true })).toBe('delete');
    check.close();
  });

  it('reports a file that cannot be opened as an unavailable StoreError naming the path and why', () => {
    const notADirectory = join(dir, 'file');
    writeFileSync(notADirectory, 'x');
    for (const [bad, why] of [
      [join(notADirectory, 'oauth.sqlite'), `${notADirectory} is not a directory`],
      [join(dir, 'missing', 'oauth.sqlite'), `the directory ${join(dir, 'missing')} does not exist`],
      [dir, 'it is a directory'],
    ] as const) {
      expect(() => openSqliteDatabase(bad)).toThrow(
        expect.objectContaining({ name: 'StoreError', code: 'unavailable', message: `the database cannot be opened: ${bad} (${why})` }),
      );
    }
    const garbage = join(dir, 'garbage.sqlite');
    writeFileSync(garbage, 'this is not a database, not at all, and it is long enough to have a header'.repeat(3));
    expect(() => SqliteStore.open(garbage)).toThrow(
      expect.objectContaining({ name: 'StoreError', message: `the database cannot be opened: ${garbage} (the file is not a SQLite database)` }),
    );
  });

  // Root reads any file: there is nothing to refuse when the suite runs as root.
  (process.getuid?.() === 0 ? it.skip : it)('says "permission denied" for a database file the process may not read', () => {
    const locked = join(dir, 'locked.sqlite');
    writeFileSync(locked, '');
    chmodSync(locked, 0o000);
    expect(() => openSqliteDatabase(locked)).toThrow(expect.objectContaining({ message: expect.stringMatching(/\(permission denied\)$/) }));
  });

  it('leaves a database it was handed open on close', async () => {
    const db = openSqliteDatabase(path);
    const store = new SqliteStore(db);
    await store.close();
    expect(db.open).toBe(true);
    db.close();
  });
});

describe('SQLite store: listing clients', () => {
  it('searches the primary key from the cursor for every page, first included, never scanning from the first id (keyset pagination)', async () => {
    const { dir, cleanup } = tempDir();
    const store = SqliteStore.open(join(dir, 'list.sqlite'));
    try {
      const page = (store as unknown as { stmt: { clientPage: { source: string } } }).stmt.clientPage;
      const binds = { name: null, enabled: null, grp: null, scope: null, limit: 500 };
      for (const after of ['', '0123']) {
        const plan = store.db.prepare<[object], { detail: string }>(`EXPLAIN QUERY PLAN ${page.source}`).all({ ...binds, after });
        expect(plan.map((row) => row.detail)).toContainEqual(expect.stringMatching(/^SEARCH c USING (INDEX|PRIMARY KEY).*\(id>\?\)$/));
      }
      // And the cursor pages as before: every client once, in id order.
      for (const id of ['b', 'a', 'c']) {
        await store.createClient({ id, name: id, scopes: [], audiences: [], grantTypes: ['client_credentials'], tokenFormat: 'jwt', secretHash: null }, 0);
      }
      const first = await store.listClientsPage({ limit: 2 });
      expect(first.clients.map((c) => c.id)).toEqual(['a', 'b']);
      const second = await store.listClientsPage({ after: first.nextAfter, limit: 2 });
      expect(second.clients.map((c) => c.id)).toEqual(['c']);
      expect(second.nextAfter).toBeUndefined();
    } finally {
      await store.close();
      cleanup();
    }
  });
});

describe('SQLite store: the next signing key (schema 3, issue 15)', () => {
  const key = async (createdAt: number) => generateSigningKey('ES256', createdAt);

  it('publishes one next key: a second publication, or one for an active key that changed, stores nothing (compare-and-set)', async () => {
    await withStore(async (store) => {
      const active = await store.ensureSigningKey(await key(NOW));
      const revision = await store.revision();
      const first = { ...(await key(NOW + 1)), activateAt: NOW + 600_000 };
      expect(await store.publishNextSigningKey(first, active.kid)).toEqual({
        next: expect.objectContaining({ kid: first.kid, active: false, retireAt: null, activateAt: NOW + 600_000 }),
        published: true,
      });
      expect(await store.revision()).toBeGreaterThan(revision);
      const second = { ...(await key(NOW + 2)), activateAt: NOW + 900_000 };
      expect(await store.publishNextSigningKey(second, active.kid)).toEqual({ next: expect.objectContaining({ kid: first.kid }), published: false });
      await store.deleteSigningKey(first.kid);
      expect(await store.publishNextSigningKey(second, 'another-kid')).toEqual({ next: undefined, published: false });
      await store.publishNextSigningKey(second, active.kid);
      expect((await store.listSigningKeys(NOW)).map((k) => [k.kid, k.active, k.activateAt])).toEqual([
        [active.kid, true, null],
        [second.kid, false, NOW + 900_000],
      ]);
    });
  });

  it('promotes the next key only while both it and the active key are the ones expected; the previous key keeps only its public half', async () => {
    await withStore(async (store) => {
      const old = await store.ensureSigningKey(await key(NOW - 40 * 86_400_000));
      // A key retired long ago goes with the promotion.
      await store.rotateSigningKey(await key(NOW - 30 * 86_400_000), old.kid, NOW - 29 * 86_400_000);
      const [active] = await store.listSigningKeys(NOW);
      const next = { ...(await key(NOW)), activateAt: NOW + 600_000 };
      await store.publishNextSigningKey(next, active?.kid);

      const later = NOW + 700_000;
      expect(await store.promoteNextSigningKey(next.kid, 'stale-kid', later + 1, later)).toEqual({
        active: expect.objectContaining({ kid: active?.kid }),
        rotated: false,
      });
      expect(await store.promoteNextSigningKey('not-the-next', active?.kid, later + 1, later)).toMatchObject({ rotated: false });
      const promoted = await store.promoteNextSigningKey(next.kid, active?.kid, later + 3_905_000, later);
      expect(promoted).toEqual({ active: expect.objectContaining({ kid: next.kid, active: true, activateAt: NOW + 600_000 }), rotated: true });
      // The second instance, due at the same time, promotes nothing.
      expect(await store.promoteNextSigningKey(next.kid, active?.kid, later + 3_905_000, later)).toMatchObject({ rotated: false });
      const sqlite = new Database(path, { readonly: true });
      try {
        const rows = sqlite.prepare('SELECT kid, active, private_key IS NULL AS dropped, retire_at FROM signing_keys ORDER BY created_at').all();
        expect(rows).toEqual([
          { kid: active?.kid, active: 0, dropped: 1, retire_at: later + 3_905_000 },
          { kid: next.kid, active: 1, dropped: 0, retire_at: null },
        ]);
      } finally {
        sqlite.close();
      }
    });
  });

  it('migrates a schema 6 database: its groups start at version 1 and move with their members from then on', async () => {
    const db = new Database(path);
    db.exec((MIGRATIONS.slice(0, 6) as string[]).join('\n'));
    db.pragma('user_version = 6');
    db.exec(`INSERT INTO clients (id, name, created_at, updated_at) VALUES ('c1', 'c1', ${NOW}, ${NOW}), ('c2', 'c2', ${NOW}, ${NOW});
      INSERT INTO groups (name, scopes, created_at, updated_at) VALUES ('g', 'a', ${NOW}, ${NOW});
      INSERT INTO client_groups (client_id, group_name) VALUES ('c1', 'g');`);
    db.close();
    await withStore(async (store) => {
      expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      expect(await store.getGroup('g')).toMatchObject({ members: ['c1'], scopes: ['a'], version: 1 });
      await store.addClientToGroup('c2', 'g', NOW);
      expect(await store.getGroup('g')).toMatchObject({ members: ['c1', 'c2'], version: 2 });
    });
  });

  it('migrates a schema 2 database: its keys stay, with no next key', async () => {
    const db = new Database(path);
    db.exec((MIGRATIONS.slice(0, 2) as string[]).join('\n'));
    db.pragma('user_version = 2');
    db.prepare(
      `INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at, active) VALUES ('k1', 'ES256', 'pem', '{"kid":"k1"}', ${NOW}, 1)`,
    ).run();
    db.close();
    await withStore(async (store) => {
      expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      expect(await store.listSigningKeys(NOW)).toEqual([expect.objectContaining({ kid: 'k1', active: true, activateAt: null })]);
    });
  });
});
