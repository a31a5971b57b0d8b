// Opens the store a `database` string names: a postgres:// URL gives the PostgreSQL store, anything else a SQLite file.
import { SqliteStore, type OpenSqliteOptions } from './sqlite';
import { PostgresStore, isPostgresUrl, type PostgresStoreOptions } from './postgres/store';
import type { Store } from './types';

/** What {@link openStore} passes on to the store it opens. */
export interface OpenStoreOptions extends OpenSqliteOptions {
  /** PostgreSQL only: pool, timeouts, background work (see {@link PostgresStoreOptions}). */
  postgres?: PostgresStoreOptions;
}

/**
 * Opens `database`: a `postgres://` or `postgresql://` URL opens a {@link PostgresStore} (lazily:
 * nothing connects before the first call), anything else the SQLite file at that path.
 *
 * @example
 * const store = openStore(process.env.OAUTH_DB ?? './oauth.sqlite');
 */
export function openStore(database: string, options: OpenStoreOptions = {}): Store {
  if (isPostgresUrl(database)) return PostgresStore.open(database, options.postgres);
  const { postgres: _postgres, ...sqlite } = options;
  return SqliteStore.open(database, sqlite);
}

export { isPostgresUrl };
