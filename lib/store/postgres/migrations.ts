// PostgreSQL schema versions, applied in order at open under an advisory lock and recorded in schema_migrations.
import type { ClientBase } from 'pg';
import { StoreError } from '../types';

/** The channel every instance LISTENs on; payloads name their schema, so schemas sharing a database ignore each other. */
export const CHANGE_CHANNEL = 'oauth_changes';

/** First key of the migration lock; the second is the schema's hash, so each schema migrates on its own. */
const MIGRATION_LOCK = 0x0a07c1; // arbitrary, fixed: "oauth cc"

/**
 * Announces a changed row: takes the next revision from a sequence (which the polling fallback
 * reads) and sends NOTIFY with the delta: what kind of thing changed, its key, and for a revocation
 * its expiry, so a listener applies it without reloading anything. A sequence, not a counter row:
 * writers do not queue on one row lock, and a statement touching many rows does not pile up row
 * versions. Revisions can then commit out of order or be skipped (a rollback), which a listener only
 * pays for with one extra full re-read. A payload too large for NOTIFY (8000 bytes) says only
 * "everything".
 */
const ANNOUNCE_FUNCTION = `
CREATE FUNCTION oauth_announce() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
DECLARE
  rev bigint;
  changed jsonb;
  payload text;
BEGIN
  rev := nextval('revision');
  IF TG_OP = 'DELETE' THEN changed := to_jsonb(OLD); ELSE changed := to_jsonb(NEW); END IF;
  payload := json_build_object(
    's', TG_TABLE_SCHEMA, 'r', rev, 'k', TG_ARGV[0], 'id', changed ->> TG_ARGV[1],
    'exp', CASE WHEN TG_ARGV[0] = 'revoked' THEN changed -> 'expires_at' END
  )::text;
  IF octet_length(payload) > 7900 THEN
    payload := json_build_object('s', TG_TABLE_SCHEMA, 'r', rev, 'k', 'all')::text;
  END IF;
  PERFORM pg_notify('${CHANGE_CHANNEL}', payload);
  RETURN NULL;
END
$fn$;
`;

/** table → [kind announced, key column, operations]. Deleting expired revocations announces nothing: they no longer void anything. */
const ANNOUNCED: readonly [string, string, string, string][] = [
  ['clients', 'client', 'id', 'INSERT OR UPDATE OR DELETE'],
  ['client_secrets', 'client', 'client_id', 'INSERT OR UPDATE OR DELETE'],
  ['client_groups', 'client', 'client_id', 'INSERT OR UPDATE OR DELETE'],
  ['groups', 'group', 'name', 'INSERT OR UPDATE OR DELETE'],
  ['signing_keys', 'keys', 'kid', 'INSERT OR UPDATE OR DELETE'],
  ['revoked_tokens', 'revoked', 'jti', 'INSERT OR UPDATE'],
];

/**
 * Each entry takes the schema from version index to index + 1. Append only: a released migration
 * never changes. Times are epoch milliseconds (bigint); scope and audience lists are space-delimited,
 * as in the SQLite store, so both stores map rows to domain objects the same way.
 */
export const PG_MIGRATIONS: readonly string[] = [
  `
  -- Moves on every announced change (see oauth_announce); read by the polling fallback.
  CREATE SEQUENCE revision MINVALUE 0 START 0;

  -- Settings every process on the database shares (the bcrypt cost of its secrets).
  CREATE TABLE settings (key text PRIMARY KEY, value bigint NOT NULL);

  CREATE TABLE clients (
    id                text PRIMARY KEY,
    name              text NOT NULL,
    scopes            text NOT NULL DEFAULT '',
    audiences         text NOT NULL DEFAULT '',
    grant_types       text NOT NULL DEFAULT 'client_credentials',
    token_format      text NOT NULL DEFAULT 'jwt' CHECK (token_format IN ('jwt', 'reference')),
    enabled           boolean NOT NULL DEFAULT true,
    version           integer NOT NULL DEFAULT 1,
    tokens_not_before bigint NOT NULL DEFAULT 0,
    -- private_key_jwt keys (RFC 7523 §2.2), inline or by URI, and DPoP-bound clients (RFC 9449 §5.2).
    jwks              text,
    jwks_uri          text,
    require_dpop      boolean NOT NULL DEFAULT false,
    -- Per-client settings: free text for people, and a token lifetime (NULL: the instance's).
    description       text NOT NULL DEFAULT '',
    token_lifetime    integer CHECK (token_lifetime IS NULL OR token_lifetime > 0),
    created_at        bigint NOT NULL,
    updated_at        bigint NOT NULL
  );

  CREATE TABLE client_secrets (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id  text NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    hash       text NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint
  );
  CREATE INDEX client_secrets_by_client ON client_secrets (client_id);

  CREATE TABLE groups (
    name       text PRIMARY KEY,
    scopes     text NOT NULL DEFAULT '',
    audiences  text NOT NULL DEFAULT '',
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
  );

  CREATE TABLE client_groups (
    client_id  text NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    group_name text NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
    PRIMARY KEY (client_id, group_name)
  );
  CREATE INDEX client_groups_by_group ON client_groups (group_name);

  CREATE TABLE signing_keys (
    kid         text PRIMARY KEY,
    alg         text NOT NULL CHECK (alg IN ('RS256', 'ES256')),
    -- Opaque to the store (sealed by the core when a key secret is set); NULL once the key stops signing.
    private_key text,
    public_jwk  text NOT NULL,
    created_at  bigint NOT NULL,
    active      boolean NOT NULL DEFAULT false,
    retire_at   bigint,
    -- On the next key (published ahead of use: not active, not retiring), when it starts signing; on
    -- the active key, when it did (NULL: at created_at).
    activate_at bigint,
    CHECK (NOT active OR private_key IS NOT NULL)
  );
  -- At most one active key: ensureSigningKey claims the slot with one INSERT ... ON CONFLICT DO NOTHING.
  CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (active) WHERE active;
  -- At most one next key, claimed the same way by publishNextSigningKey.
  CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (active) WHERE NOT active AND retire_at IS NULL;

  CREATE TABLE revoked_tokens (
    jti        text PRIMARY KEY,
    client_id  text NOT NULL,
    expires_at bigint NOT NULL
  );
  CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);

  CREATE TABLE reference_tokens (
    token_hash text PRIMARY KEY,
    jti        text NOT NULL UNIQUE,
    client_id  text NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    claims     text NOT NULL,
    expires_at bigint NOT NULL
  );
  CREATE INDEX reference_tokens_by_expiry ON reference_tokens (expires_at);
  CREATE INDEX reference_tokens_by_client ON reference_tokens (client_id, expires_at);
  CREATE INDEX clients_by_name ON clients (name, id);

  -- One-time claims (a client assertion's or a DPoP proof's jti), shared by every instance; not announced: no cache holds them.
  CREATE TABLE replay_claims (
    namespace  text NOT NULL,
    id         text NOT NULL,
    expires_at bigint NOT NULL,
    PRIMARY KEY (namespace, id)
  );
  CREATE INDEX replay_claims_by_expiry ON replay_claims (expires_at);

  ${ANNOUNCE_FUNCTION}
  ${ANNOUNCED.map(
    ([table, kind, key, ops]) =>
      `CREATE TRIGGER ${table}_announce AFTER ${ops} ON ${table} FOR EACH ROW EXECUTE FUNCTION oauth_announce('${kind}', '${key}');`,
  ).join('\n  ')}
  `,
  // 2 (issue 18 item 4): a group's version, its ETag for If-Match (RFC 9110 §13.1.1). A group change
  // bumps it in its own statement; a member joining or leaving (whichever statement does it, a
  // client's deletion included) bumps it here, in the same transaction. The UPDATE is announced as a
  // group change by the groups trigger, as any other.
  `
  ALTER TABLE groups ADD COLUMN version integer NOT NULL DEFAULT 1;
  CREATE FUNCTION oauth_group_membership_version() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
  BEGIN
    IF TG_OP = 'DELETE' THEN
      UPDATE groups SET version = version + 1 WHERE name = OLD.group_name;
    ELSE
      UPDATE groups SET version = version + 1 WHERE name = NEW.group_name;
    END IF;
    RETURN NULL;
  END
  $fn$;
  CREATE TRIGGER client_groups_group_version AFTER INSERT OR DELETE ON client_groups
    FOR EACH ROW EXECUTE FUNCTION oauth_group_membership_version();
  `,
  // 3: clients listed a page at a time in byte order (listClientsPage: id COLLATE "C" > the last
  // id, ORDER BY the same, LIMIT): the primary key has the database's collation, so each page was a
  // scan and a sort of the whole table. With this index a page reads its own rows only. Built in the
  // migration's transaction: writes to clients wait for it (about a second per million clients).
  `
  CREATE INDEX clients_id_bytes ON clients (id COLLATE "C");
  `,
];

/**
 * Brings the schema in the connection's search_path to the newest version, in one transaction under
 * a transaction-scoped advisory lock: instances starting together wait for the first, then find
 * nothing left to do. Rejects with a `schema` {@link StoreError} for a schema written by a newer
 * version of this library (changing nothing) or a search_path naming no existing schema.
 * Resolves with the version found before migrating.
 */
export async function migratePostgres(client: ClientBase, migrations: readonly string[] = PG_MIGRATIONS): Promise<number> {
  await client.query('BEGIN');
  try {
    const { rows: schemaRows } = await client.query<{ schema: string | null }>('SELECT current_schema() AS schema');
    const schema = schemaRows[0]?.schema;
    if (!schema) throw new StoreError('schema', 'the search_path names no existing schema; create it first');
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK, schema]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
    const current = rows[0]?.version ?? 0;
    if (current > migrations.length) {
      throw new StoreError(
        'schema',
        `database schema version ${current} (schema ${JSON.stringify(schema)}) is newer than this library understands (${migrations.length})`,
      );
    }
    for (let version = current; version < migrations.length; version++) {
      await client.query(migrations[version] as string);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version + 1]);
    }
    await client.query('COMMIT');
    return current;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
