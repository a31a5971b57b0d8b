// SQLite schema versions, applied in order at open and recorded in PRAGMA user_version.
import type Database from 'better-sqlite3';
import { StoreError } from './types';

/** Tables whose changes bump the revision counter other instances poll (see ChangeFeed). */
const WATCHED_TABLES = ['clients', 'client_secrets', 'groups', 'client_groups', 'signing_keys', 'revoked_tokens'];

function revisionTriggers(table: string): string {
  return ['INSERT', 'UPDATE', 'DELETE']
    .map(
      (op) => `CREATE TRIGGER ${table}_${op.toLowerCase()}_revision AFTER ${op} ON ${table}
  BEGIN UPDATE meta SET value = value + 1 WHERE key = 'revision'; END;`,
    )
    .join('\n');
}

/** Entries the change log keeps (migration 6); lib/store/sqlite.ts reloads everything when further behind. */
export const CHANGE_LOG_LENGTH = 10_000;

/** Logs each row change of `table` in change_log as a change of `kind` keyed by `column`. */
function changeLogTriggers(table: string, kind: string, column: string): string {
  return (['INSERT', 'UPDATE', 'DELETE'] as const)
    .map(
      (op) => `CREATE TRIGGER ${table}_${op.toLowerCase()}_log AFTER ${op} ON ${table}
  BEGIN INSERT INTO change_log (kind, ref) VALUES ('${kind}', ${op === 'DELETE' ? 'OLD' : 'NEW'}.${column}); END;`,
    )
    .join('\n');
}

/**
 * Each entry takes the schema from version index to index + 1. Append only: a released migration
 * never changes. Times are epoch milliseconds; scope and audience lists are space-delimited.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;
  INSERT INTO meta (key, value) VALUES ('revision', 0);

  CREATE TABLE clients (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    scopes            TEXT NOT NULL DEFAULT '',
    audiences         TEXT NOT NULL DEFAULT '',
    grant_types       TEXT NOT NULL DEFAULT 'client_credentials',
    token_format      TEXT NOT NULL DEFAULT 'jwt' CHECK (token_format IN ('jwt', 'reference')),
    enabled           INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    version           INTEGER NOT NULL DEFAULT 1,
    tokens_not_before INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE client_secrets (
    id         INTEGER PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
  ) STRICT;
  CREATE INDEX client_secrets_by_client ON client_secrets (client_id);

  CREATE TABLE groups (
    name       TEXT PRIMARY KEY,
    scopes     TEXT NOT NULL DEFAULT '',
    audiences  TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE client_groups (
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    group_name TEXT NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
    PRIMARY KEY (client_id, group_name)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX client_groups_by_group ON client_groups (group_name);

  CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    alg         TEXT NOT NULL CHECK (alg IN ('RS256', 'ES256')),
    private_key TEXT NOT NULL,
    public_jwk  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    active      INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    retire_at   INTEGER
  ) STRICT;
  CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (active) WHERE active = 1;

  CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);

  CREATE TABLE reference_tokens (
    token_hash TEXT PRIMARY KEY,
    jti        TEXT NOT NULL UNIQUE,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    claims     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX reference_tokens_by_expiry ON reference_tokens (expires_at);

  ${WATCHED_TABLES.map(revisionTriggers).join('\n')}
  `,
  // 2: a key that stopped signing keeps only its public half (private_key NULL), and a private key
  // may be stored sealed (lib/core/tokens/key-encryption.ts). SQLite cannot drop a NOT NULL, so the
  // table is rebuilt; private keys of keys that no longer sign go at once.
  `
  CREATE TABLE signing_keys_v2 (
    kid         TEXT PRIMARY KEY,
    alg         TEXT NOT NULL CHECK (alg IN ('RS256', 'ES256')),
    private_key TEXT,
    public_jwk  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    active      INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    retire_at   INTEGER,
    CHECK (active = 0 OR private_key IS NOT NULL)
  ) STRICT;
  INSERT INTO signing_keys_v2 (kid, alg, private_key, public_jwk, created_at, active, retire_at)
    SELECT kid, alg, CASE WHEN active = 1 THEN private_key END, public_jwk, created_at, active, retire_at FROM signing_keys;
  DROP TABLE signing_keys;
  ALTER TABLE signing_keys_v2 RENAME TO signing_keys;
  CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (active) WHERE active = 1;
  ${revisionTriggers('signing_keys')}
  `,
  // 3: scheduled rotation publishes the next key ahead of use (issue 15): a row that is not active and
  // not retiring (retire_at NULL) is the next key, signing from activate_at; at most one exists. On the
  // active key activate_at is when it started signing (NULL: at created_at).
  `
  ALTER TABLE signing_keys ADD COLUMN activate_at INTEGER;
  CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (active) WHERE active = 0 AND retire_at IS NULL;
  `,
  // 4 (issue 18): per-client settings (a description; a token lifetime, null for the instance's), an
  // index for the name filter of paged lists, and one for listing a client's live reference tokens.
  `
  ALTER TABLE clients ADD COLUMN description TEXT NOT NULL DEFAULT '';
  ALTER TABLE clients ADD COLUMN token_lifetime INTEGER CHECK (token_lifetime IS NULL OR token_lifetime > 0);
  CREATE INDEX clients_by_name ON clients (name, id);
  CREATE INDEX reference_tokens_by_client ON reference_tokens (client_id, expires_at);
  `,
  // 5: private_key_jwt (RFC 7523 §2.2) keys, DPoP-required clients (RFC 9449 §5.2), and one-time claims of
  // assertion and proof jtis shared by every instance on the file. Claims are not watched: no cache holds them.
  `
  ALTER TABLE clients ADD COLUMN jwks TEXT;
  ALTER TABLE clients ADD COLUMN jwks_uri TEXT;
  ALTER TABLE clients ADD COLUMN require_dpop INTEGER NOT NULL DEFAULT 0 CHECK (require_dpop IN (0, 1));

  CREATE TABLE replay_claims (
    namespace  TEXT NOT NULL,
    id         TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (namespace, id)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX replay_claims_by_expiry ON replay_claims (expires_at);
  `,
  // 6 (perf, issue 16): the change log. Every row change the revision counts is also logged with
  // what changed, so an instance catches up on a change by reading the log since the position it
  // last saw, in O(what changed), instead of re-reading every client and revocation. The log keeps
  // its last ${CHANGE_LOG_LENGTH} entries; an instance further behind than that reloads everything.
  `
  CREATE TABLE change_log (
    position   INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL CHECK (kind IN ('client', 'group', 'keys', 'revoked', 'purge')),
    ref        TEXT,
    expires_at INTEGER
  ) STRICT;
  CREATE TRIGGER change_log_bounded AFTER INSERT ON change_log
  BEGIN DELETE FROM change_log WHERE position <= NEW.position - ${CHANGE_LOG_LENGTH}; END;
  ${changeLogTriggers('clients', 'client', 'id')}
  ${changeLogTriggers('client_secrets', 'client', 'client_id')}
  ${changeLogTriggers('client_groups', 'client', 'client_id')}
  ${changeLogTriggers('groups', 'group', 'name')}
  ${changeLogTriggers('signing_keys', 'keys', 'kid')}
  CREATE TRIGGER revoked_tokens_insert_log AFTER INSERT ON revoked_tokens
  BEGIN INSERT INTO change_log (kind, ref, expires_at) VALUES ('revoked', NEW.jti, NEW.expires_at); END;
  CREATE TRIGGER revoked_tokens_update_log AFTER UPDATE ON revoked_tokens
  BEGIN INSERT INTO change_log (kind, ref, expires_at) VALUES ('revoked', NEW.jti, NEW.expires_at); END;
  -- Deleting a revocation (its token expired) voids nothing; logged only so the log counts every change the revision counts.
  CREATE TRIGGER revoked_tokens_delete_log AFTER DELETE ON revoked_tokens
  BEGIN INSERT INTO change_log (kind, ref) VALUES ('purge', OLD.jti); END;
  `,
  // 7 (issue 18 item 4): a group's version, its ETag for If-Match (RFC 9110 §13.1.1). A group change
  // bumps it in its own statement; a member joining or leaving (whichever statement does it, a client's
  // deletion included) bumps it here, in the same transaction.
  `
  ALTER TABLE groups ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
  CREATE TRIGGER client_groups_insert_group_version AFTER INSERT ON client_groups
  BEGIN UPDATE groups SET version = version + 1 WHERE name = NEW.group_name; END;
  CREATE TRIGGER client_groups_delete_group_version AFTER DELETE ON client_groups
  BEGIN UPDATE groups SET version = version + 1 WHERE name = OLD.group_name; END;
  `,
];

/**
 * Returns the schema version of `db`; throws a `schema` StoreError for one written by a newer
 * version of this library, before anything (even the journal mode) is changed.
 */
export function checkSchemaVersion(db: Database.Database): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new StoreError('schema', `database schema version ${current} is newer than this library understands (${MIGRATIONS.length})`);
  }
  return current;
}

/**
 * Brings `db` to the newest schema. Runs under an IMMEDIATE transaction so two processes opening
 * the same new file cannot both migrate it; refuses a database written by a newer version.
 */
export function migrate(db: Database.Database): void {
  const apply = db.transaction(() => {
    const current = checkSchemaVersion(db);
    for (let version = current; version < MIGRATIONS.length; version++) {
      db.exec(MIGRATIONS[version] as string);
      db.pragma(`user_version = ${version + 1}`);
    }
  });
  apply.immediate();
}
