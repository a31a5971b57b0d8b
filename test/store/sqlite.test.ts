// What only the SQLite store does: migrations recorded in user_version, WAL, foreign keys, a newer schema or an unopenable file refused (the shared behaviour is in ./contract.test.ts).
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { SqliteStore, openSqliteDatabase } from '../../lib/store/sqlite';
import { StoreError } from '../../lib/store';
import { MIGRATIONS } from '../../lib/store/migrations';
import { tempDir } from '../helpers';

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

  it('reports a file that cannot be opened as an unavailable StoreError naming the path', () => {
    const notADirectory = join(dir, 'file');
    writeFileSync(notADirectory, 'x');
    for (const bad of [join(notADirectory, 'oauth.sqlite'), join(dir, 'missing', 'oauth.sqlite'), dir]) {
      expect(() => openSqliteDatabase(bad)).toThrow(
        expect.objectContaining({ name: 'StoreError', code: 'unavailable', message: `the database cannot be opened: ${bad}` }),
      );
    }
    const garbage = join(dir, 'garbage.sqlite');
    writeFileSync(garbage, 'this is not a database, not at all, and it is long enough to have a header'.repeat(3));
    expect(() => SqliteStore.open(garbage)).toThrow(StoreError);
  });

  it('leaves a database it was handed open on close', async () => {
    const db = openSqliteDatabase(path);
    const store = new SqliteStore(db);
    await store.close();
    expect(db.open).toBe(true);
    db.close();
  });
});
