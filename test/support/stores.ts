// Store harnesses for the contract suite: SQLite on a temp file, and PostgreSQL in a fresh schema per test when OAUTH_TEST_PG_URL is set (required in CI).
import { join } from 'node:path';
import { Pool } from 'pg';
import { PostgresStore, type PostgresStoreOptions } from '../../lib/store/postgres';
import { SqliteStore } from '../../lib/store/sqlite';
import type { Store } from '../../lib/store';
import { tempDir } from '../helpers';

/** The PostgreSQL URL of the test database, or undefined (then PostgreSQL suites skip). */
export const PG_URL = process.env.OAUTH_TEST_PG_URL || undefined;

/**
 * Whether the PostgreSQL suites run. The run's global setup (test/support/services-setup.js) probed
 * OAUTH_TEST_PG_URL once: where nothing answers it set OAUTH_TEST_PG_URL_SKIP and said so in one line
 * (in CI it fails the run instead, since .ci/run requires PostgreSQL).
 */
export function pgAvailable(): boolean {
  return PG_URL !== undefined && !process.env.OAUTH_TEST_PG_URL_SKIP;
}

/** One fresh database for one test, and the means to reach it as a second instance would. */
export interface StoreFixture {
  /** The store under test. */
  store: Store;
  /** Another store on the same database, as a second instance or the CLI opens it. */
  openAnother(): Promise<Store>;
  /** Makes every later insert into client_secrets fail with the message 'refused'. */
  sabotageSecretInserts(): Promise<void>;
  /** Closes every store it opened and removes the database. */
  cleanup(): Promise<void>;
}

/** A kind of store the contract suite runs against. */
export interface StoreHarness {
  name: string;
  /** Whether its database is reachable here; a harness that is not is skipped. */
  available: boolean;
  fresh(): Promise<StoreFixture>;
}

export const sqliteHarness: StoreHarness = {
  name: 'SQLite',
  available: true,
  async fresh() {
    const { dir, cleanup } = tempDir();
    const path = join(dir, 'oauth.sqlite');
    const store = SqliteStore.open(path);
    const others: Store[] = [];
    return {
      store,
      async openAnother() {
        const other = SqliteStore.open(path);
        others.push(other);
        return other;
      },
      async sabotageSecretInserts() {
        store.db.exec("CREATE TEMP TRIGGER no_secrets BEFORE INSERT ON client_secrets BEGIN SELECT RAISE(ABORT, 'refused'); END");
      },
      async cleanup() {
        for (const s of [store, ...others]) await s.close();
        cleanup();
      },
    };
  },
};

/** A fresh schema in the test database, dropped by the returned function. */
export async function freshSchema(): Promise<{ schema: string; url: string; admin: Pool; drop: () => Promise<void> }> {
  const schema = `oauth_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new Pool({ connectionString: PG_URL, max: 2 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = `${PG_URL}${PG_URL?.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return {
    schema,
    url,
    admin,
    async drop() {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    },
  };
}

/** Opens a PostgreSQL store on `schema` with short timings suited to tests. */
export function openPgStore(schema: string, options: PostgresStoreOptions = {}): PostgresStore {
  // Named after the schema, so a test can find (and kill) its own connections in pg_stat_activity.
  return new PostgresStore({ connectionString: PG_URL, application_name: schema }, { schema, connectionTimeout: 3000, ...options });
}

export const postgresHarness: StoreHarness = {
  name: 'PostgreSQL',
  get available() {
    return pgAvailable();
  },
  async fresh() {
    const db = await freshSchema();
    const store = openPgStore(db.schema);
    await store.ready();
    const others: Store[] = [];
    return {
      store,
      async openAnother() {
        const other = openPgStore(db.schema);
        others.push(other);
        await other.ready();
        return other;
      },
      async sabotageSecretInserts() {
        await db.admin.query(`
          CREATE FUNCTION ${db.schema}.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$;
          CREATE TRIGGER no_secrets BEFORE INSERT ON ${db.schema}.client_secrets FOR EACH ROW EXECUTE FUNCTION ${db.schema}.refuse();`);
      },
      async cleanup() {
        for (const s of [store, ...others]) await s.close();
        await db.drop();
      },
    };
  },
};

/** Every store the contract suite covers; PostgreSQL is skipped (with one line saying so) when unreachable. */
export const STORE_HARNESSES: readonly StoreHarness[] = [sqliteHarness, postgresHarness];
