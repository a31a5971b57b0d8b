// Store harnesses for the contract suite: SQLite on a temp file, and PostgreSQL in a fresh schema per test when OAUTH_TEST_PG_URL is set (required in CI).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Pool } from 'pg';
import { PostgresStore, type PostgresStoreOptions } from '../../lib/store/postgres';
import { SqliteStore } from '../../lib/store/sqlite';
import type { Store } from '../../lib/store';
import { tempDir } from '../helpers';

/** The PostgreSQL URL of the test database, or undefined (then PostgreSQL suites skip). */
export const PG_URL = process.env.OAUTH_TEST_PG_URL || undefined;

/** Whether something accepts TCP connections at the URL's host and port (checked once per test file, synchronously, as describe() needs). */
function reachable(url: string): boolean {
  const { hostname, port } = new URL(url);
  const probe = `const s = require('node:net').connect(${Number(port || 5432)}, ${JSON.stringify(hostname || '127.0.0.1')});
    s.setTimeout(2000, () => process.exit(1)); s.on('connect', () => process.exit(0)); s.on('error', () => process.exit(1));`;
  return spawnSync(process.execPath, ['-e', probe], { timeout: 5000 }).status === 0;
}

let availability: boolean | undefined;
/**
 * Whether the PostgreSQL suites run: OAUTH_TEST_PG_URL set and reachable. Otherwise they skip with
 * one line saying why, except in CI, where both are required and their absence fails the run.
 */
export function pgAvailable(): boolean {
  if (availability !== undefined) return availability;
  const why = !PG_URL ? 'OAUTH_TEST_PG_URL is not set' : !reachable(PG_URL) ? `nothing answers at ${new URL(PG_URL).host}` : undefined;
  if (why && process.env.CI) throw new Error(`PostgreSQL tests are required in CI, but ${why} (.ci/run starts PostgreSQL and exports the URL)`);
  if (why) process.stderr.write(`PostgreSQL tests skipped: ${why}; set OAUTH_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/test to run them\n`);
  availability = why === undefined;
  return availability;
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
