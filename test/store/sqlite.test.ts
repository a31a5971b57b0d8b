// The SQLite store: migrations recorded in user_version, WAL, foreign keys, transactions, secret rotation, a newer schema refused.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { SqliteStore, openSqliteDatabase } from '../../lib/store/sqlite';
import { StoreError, type NewClient } from '../../lib/store';
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

const NOW = Date.UTC(2026, 0, 1);

function newClient(id = 'c1', secretHash: string | null = '$2b$04$hash'): NewClient {
  return { id, name: 'client', scopes: ['read'], audiences: [], grantTypes: ['client_credentials'], tokenFormat: 'jwt', secretHash };
}

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

  it('deletes a client\'s secrets with it (foreign key ON DELETE CASCADE)', async () => {
    await withStore(async (store) => {
      await store.createClient(newClient(), NOW);
      expect(await store.deleteClient('c1')).toBe(true);
      expect(store.db.prepare('SELECT count(*) FROM client_secrets').pluck().get()).toBe(0);
      expect(await store.deleteClient('c1')).toBe(false);
    });
  });

  it('wraps a multi-statement change in a transaction: a failure leaves nothing behind', async () => {
    await withStore(async (store) => {
      store.db.exec("CREATE TEMP TRIGGER no_secrets BEFORE INSERT ON client_secrets BEGIN SELECT RAISE(ABORT, 'refused'); END");
      // toMatchObject, not toThrow: better-sqlite3's native error class may come from another jest module registry.
      await expect(store.createClient(newClient(), NOW)).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_TRIGGER', message: 'refused' });
      expect(await store.getClient('c1')).toBeUndefined();
    });
  });

  it('maps a duplicate id to a conflict StoreError', async () => {
    await withStore(async (store) => {
      await store.createClient(newClient(), NOW);
      await expect(store.createClient(newClient(), NOW)).rejects.toMatchObject({ name: 'StoreError', code: 'conflict' });
    });
  });

  it('keeps at most two secrets through any number of rotations', async () => {
    await withStore(async (store) => {
      await store.createClient(newClient('c1', 'h0'), NOW);
      for (let i = 1; i <= 4; i++) {
        const client = await store.rotateSecret('c1', { hash: `h${i}`, previousValidUntil: NOW + i * 60_000 + 3_600_000 }, NOW + i * 60_000);
        expect(client?.secrets.map((s) => s.hash)).toEqual([`h${i}`, `h${i - 1}`]);
      }
      const cut = await store.rotateSecret('c1', { hash: 'h5', previousValidUntil: null }, NOW + 600_000);
      expect(cut?.secrets.map((s) => s.hash)).toEqual(['h5']);
      expect(store.db.prepare('SELECT count(*) FROM client_secrets').pluck().get()).toBe(1);
      expect(await store.rotateSecret('nope', { hash: 'x', previousValidUntil: null }, NOW)).toBeUndefined();
    });
  });

  it('bumps the revision other instances poll on every change', async () => {
    await withStore(async (store) => {
      const before = await store.revision();
      await store.createClient(newClient(), NOW);
      const afterCreate = await store.revision();
      expect(afterCreate).toBeGreaterThan(before);
      await store.updateClient('c1', { enabled: false }, NOW);
      expect(await store.revision()).toBeGreaterThan(afterCreate);
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
