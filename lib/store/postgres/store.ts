// The PostgreSQL store: node-postgres with a pool, transactions for multi-statement changes, single-statement claims, bounded cleanup, and changes pushed by LISTEN/NOTIFY.
import { Pool, type PoolClient, type PoolConfig } from 'pg';
import { effectiveGrants, type Client, type ClientJwks, type ClientSecret, type TokenFormat } from '../../core/model/client';
import type { Group } from '../../core/model/group';
import type { PublicJwk, SigningAlgorithm, StoredSigningKey } from '../../core/tokens/keys';
import type { AccessTokenClaims } from '../../core/tokens/jwt';
import {
  StoreError,
  type ClientChanges,
  type ClientKeys,
  type ClientPage,
  type ClientQuery,
  type ClientStatus,
  type GroupChanges,
  type MembershipCondition,
  type NewClient,
  type NewGroup,
  type RevokedToken,
  type SecretRotation,
  type Store,
  type StoreChange,
  type StoredReferenceToken,
} from '../types';
import { ChangeListener } from './change-listener';
import { translatePgError } from './errors';
import { migratePostgres } from './migrations';

/** Options of {@link PostgresStore}; every time is in milliseconds. */
export interface PostgresStoreOptions {
  /** Schema holding the tables (sets `search_path` on every connection); default: the connection's own search_path. */
  schema?: string;
  /** Most pooled connections. Default 10. */
  poolSize?: number;
  /** Longest wait for a connection (pool or new), before answering 503. Default 2000. */
  connectionTimeout?: number;
  /** Longest a statement may run on the server (`statement_timeout`), and on the client plus one second. Default 5000. */
  statementTimeout?: number;
  /** How often the polling fallback reads the revision counter besides LISTEN/NOTIFY. Default 5000. */
  pollInterval?: number;
  /** How often the LISTEN connection runs `SELECT 1` to prove it is alive. Default 5000. */
  livenessInterval?: number;
  /** How often expired revocations, reference tokens and replay claims are deleted. Default 60000. */
  cleanupInterval?: number;
  /** Rows deleted per cleanup statement; at most 10 statements per table per run. Default 1000. */
  cleanupBatchSize?: number;
  /** Current time for the cleanup, epoch ms. Default `Date.now`. */
  now?: () => number;
  /** Where failures of background work (listener, cleanup) are reported. Default: ignored. */
  onError?: (err: unknown) => void;
}

const DEFAULTS = {
  poolSize: 10,
  connectionTimeout: 2000,
  statementTimeout: 5000,
  pollInterval: 5000,
  livenessInterval: 5000,
  cleanupInterval: 60_000,
  cleanupBatchSize: 1000,
} as const;
/** Cleanup statements per table per run: the run stays bounded however far behind it is. */
const MAX_CLEANUP_BATCHES = 10;

/** Whether `database` names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(database: string): boolean {
  return /^postgres(ql)?:\/\//i.test(database);
}

interface ClientRow {
  id: string;
  name: string;
  scopes: string;
  audiences: string;
  grant_types: string;
  token_format: string;
  enabled: boolean;
  description: string;
  token_lifetime: number | null;
  jwks: string | null;
  jwks_uri: string | null;
  require_dpop: boolean;
  version: number | string;
  tokens_not_before: number | string;
  created_at: number | string;
  updated_at: number | string;
  secrets: { hash: string; created_at: number; expires_at: number | null }[];
  groups: { name: string; scopes: string; audiences: string }[];
}
interface GroupRow {
  name: string;
  scopes: string;
  audiences: string;
  version: number | string;
  created_at: number | string;
  updated_at: number | string;
  members: string[];
}
interface KeyRow {
  kid: string;
  alg: string;
  private_key: string | null;
  public_jwk: string;
  created_at: number | string;
  active: boolean;
  retire_at: number | string | null;
  activate_at: number | string | null;
}

/** A client's keys as its two columns: inline JSON or a URI, never both. */
function keyColumns(keys: ClientKeys | null): { jwks: string | null; jwksUri: string | null } {
  if (keys === null) return { jwks: null, jwksUri: null };
  return 'jwks' in keys ? { jwks: JSON.stringify(keys.jwks), jwksUri: null } : { jwks: null, jwksUri: keys.jwksUri };
}

/** Splits a stored space-delimited list. */
function list(value: string): string[] {
  return value === '' ? [] : value.split(' ');
}

/** bigint columns arrive as strings from node-postgres; epoch ms fit a double exactly. */
function num(value: number | string): number {
  return typeof value === 'number' ? value : Number(value);
}

/** The one place a client's row (with its secrets and groups aggregated as JSON) becomes a domain object. */
function toClient(row: ClientRow): Client {
  const scopes = list(row.scopes);
  const audiences = list(row.audiences);
  return {
    id: row.id,
    name: row.name,
    scopes,
    audiences,
    groups: row.groups.map((g) => g.name),
    ...effectiveGrants(
      { scopes, audiences },
      row.groups.map((g) => ({ scopes: list(g.scopes), audiences: list(g.audiences) })),
    ),
    grantTypes: list(row.grant_types),
    tokenFormat: row.token_format as TokenFormat,
    description: row.description,
    tokenLifetime: row.token_lifetime,
    jwks: row.jwks === null ? null : (JSON.parse(row.jwks) as ClientJwks),
    jwksUri: row.jwks_uri,
    requireDpop: row.require_dpop,
    enabled: row.enabled,
    secrets: row.secrets.map(
      (s): ClientSecret => ({ hash: s.hash, createdAt: num(s.created_at), expiresAt: s.expires_at === null ? null : num(s.expires_at) }),
    ),
    version: num(row.version),
    tokensNotBefore: num(row.tokens_not_before),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

function toGroup(row: GroupRow): Group {
  return {
    name: row.name,
    scopes: list(row.scopes),
    audiences: list(row.audiences),
    members: row.members,
    version: num(row.version),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

interface ReferenceRow {
  token_hash: string;
  jti: string;
  client_id: string;
  claims: string;
  expires_at: string | number;
}

function toReference(row: ReferenceRow): StoredReferenceToken {
  return {
    tokenHash: row.token_hash,
    jti: row.jti,
    clientId: row.client_id,
    claims: JSON.parse(row.claims) as AccessTokenClaims,
    expiresAt: num(row.expires_at),
  };
}

function toKey(row: KeyRow): StoredSigningKey {
  return {
    kid: row.kid,
    alg: row.alg as SigningAlgorithm,
    privateKeyPem: row.private_key,
    publicJwk: JSON.parse(row.public_jwk) as PublicJwk,
    createdAt: num(row.created_at),
    active: row.active,
    retireAt: row.retire_at === null ? null : num(row.retire_at),
    activateAt: row.activate_at === null ? null : num(row.activate_at),
  };
}

/**
 * A client with its secrets and groups in one statement, hence one snapshot. Orders match the SQLite
 * store's (binary collation, current secret first).
 */
const CLIENT_SELECT = `
SELECT c.*,
  coalesce((SELECT json_agg(json_build_object('hash', s.hash, 'created_at', s.created_at, 'expires_at', s.expires_at)
                            ORDER BY s.expires_at IS NOT NULL, s.created_at DESC, s.id DESC)
            FROM client_secrets s WHERE s.client_id = c.id), '[]'::json) AS secrets,
  coalesce((SELECT json_agg(json_build_object('name', g.name, 'scopes', g.scopes, 'audiences', g.audiences) ORDER BY g.name COLLATE "C")
            FROM client_groups cg JOIN groups g ON g.name = cg.group_name WHERE cg.client_id = c.id), '[]'::json) AS groups
FROM clients c`;

const GROUP_SELECT = `
SELECT g.*,
  coalesce((SELECT json_agg(cg.client_id ORDER BY cg.client_id COLLATE "C") FROM client_groups cg WHERE cg.group_name = g.name), '[]'::json) AS members
FROM groups g`;

/** Sets the version of a client's row forward (and optionally its token cut-off); the caller reads the client after. */
const TOUCH_CLIENT = `
UPDATE clients SET name = coalesce($2::text, name), scopes = coalesce($3::text, scopes),
  audiences = coalesce($4::text, audiences), grant_types = coalesce($5::text, grant_types),
  token_format = coalesce($6::text, token_format), enabled = coalesce($7::boolean, enabled),
  tokens_not_before = greatest(tokens_not_before, coalesce($8::bigint, 0)),
  description = coalesce($10::text, description),
  token_lifetime = CASE WHEN $11::boolean THEN $12::integer ELSE token_lifetime END,
  jwks = CASE WHEN $13::boolean THEN $14::text ELSE jwks END,
  jwks_uri = CASE WHEN $13::boolean THEN $15::text ELSE jwks_uri END,
  require_dpop = coalesce($16::boolean, require_dpop),
  version = version + 1, updated_at = $9::bigint
WHERE id = $1`;

/** A group change alters what its members may get: their version moves so caches keyed on it drop them. */
const BUMP_MEMBERS = 'UPDATE clients SET version = version + 1 WHERE id IN (SELECT client_id FROM client_groups WHERE group_name = $1)';

/**
 * {@link Store} on PostgreSQL through node-postgres. It opens lazily: the first call (or
 * {@link ready}) connects and migrates, so it can be created synchronously; a database that is down
 * makes calls fail with an `unavailable` {@link StoreError} (503 with `Retry-After`) until it is back.
 * Changes any instance makes reach {@link onChange} listeners through LISTEN/NOTIFY.
 *
 * @example
 * const store = PostgresStore.open('postgres://oauth@db.internal/oauth');
 * await store.ready(); // optional: fail at start-up rather than on the first request
 */
export class PostgresStore implements Store {
  private readonly pool: Pool;
  private readonly listeners = new Set<(change: StoreChange) => void>();
  private readonly changeListener: ChangeListener;
  private readonly onError: (err: unknown) => void;
  private readonly now: () => number;
  private readonly cleanupBatchSize: number;
  private readonly cleanupInterval: number;
  private cleanupTimer: NodeJS.Timeout | undefined;
  private opening: Promise<void> | undefined;
  private closed = false;
  readonly pollInterval: number;

  constructor(connection: PoolConfig, options: PostgresStoreOptions = {}) {
    const statementTimeout = options.statementTimeout ?? DEFAULTS.statementTimeout;
    const schemaOption = options.schema === undefined ? undefined : `-c search_path=${quoteIdentifier(options.schema)}`;
    const config: PoolConfig = {
      ...connection,
      options: [connection.options, schemaOption].filter((o) => o).join(' ') || undefined,
      max: options.poolSize ?? connection.max ?? DEFAULTS.poolSize,
      connectionTimeoutMillis: options.connectionTimeout ?? DEFAULTS.connectionTimeout,
      statement_timeout: statementTimeout,
      // The server-side timeout cannot fire on a dead network: the client gives up a second later.
      query_timeout: statementTimeout + 1000,
      idle_in_transaction_session_timeout: statementTimeout * 2,
      keepAlive: true,
      application_name: connection.application_name ?? 'express-client-credentials',
    };
    this.onError = options.onError ?? (() => undefined);
    this.now = options.now ?? Date.now;
    this.pollInterval = options.pollInterval ?? DEFAULTS.pollInterval;
    this.cleanupInterval = options.cleanupInterval ?? DEFAULTS.cleanupInterval;
    this.cleanupBatchSize = options.cleanupBatchSize ?? DEFAULTS.cleanupBatchSize;
    this.pool = new Pool(config);
    // An idle pooled connection that dies (server restart, pg_terminate_backend) emits 'error' on the
    // pool; unhandled it would crash the process. The pool drops it; the next checkout connects anew.
    this.pool.on('error', (err) => this.onError(translatePgError(err)));
    const { max: _max, ...poolOnly } = config;
    this.changeListener = new ChangeListener(
      { ...poolOnly, application_name: `${config.application_name} listener` },
      (change) => this.announce(change),
      (err) => this.onError(translatePgError(err)),
      { liveness: options.livenessInterval ?? DEFAULTS.livenessInterval, minBackoff: 100, maxBackoff: 5000 },
    );
  }

  /**
   * A store on the database at `url` (`postgres://user@host:5432/db`; `?options=-c search_path=name`
   * or `options.schema` picks the schema). Nothing connects until the first call or {@link ready}.
   */
  static open(url: string, options: PostgresStoreOptions = {}): PostgresStore {
    return new PostgresStore({ connectionString: url }, options);
  }

  /**
   * Connects and migrates (once; concurrent callers share it). A failure to connect is retried by the
   * next call; a schema newer than this library stays an error, since retrying cannot fix it.
   */
  ready(): Promise<void> {
    if (this.closed) return Promise.reject(new StoreError('unavailable', 'the store is closed'));
    this.opening ??= (async () => {
      const client = await this.pool.connect();
      try {
        await migratePostgres(client);
        client.release();
      } catch (err) {
        client.release(true);
        throw err;
      }
      this.startCleanup();
    })().catch((err: unknown) => {
      const translated = translatePgError(err);
      if (!(translated instanceof StoreError && translated.code === 'schema')) this.opening = undefined;
      throw translated;
    });
    return this.opening;
  }

  /** Runs `fn` once the store is open, translating every failure in one place. */
  private async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      await this.ready();
      return await fn();
    } catch (err) {
      throw translatePgError(err);
    }
  }

  /** One statement on any pooled connection. */
  private async query<R extends object>(text: string, values: unknown[] = []): Promise<R[]> {
    return this.run(async () => (await this.pool.query<R>(text, values)).rows);
  }

  /**
   * Runs `fn` in a transaction on one connection; after COMMIT tells this process's listeners of
   * `changes(result)` at once (other instances hear of it by NOTIFY).
   */
  private async transaction<T>(fn: (client: PoolClient) => Promise<T>, changes?: (result: T) => StoreChange[]): Promise<T> {
    const result = await this.run(async () => {
      const client = await this.pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const value = await fn(client);
        await client.query('COMMIT');
        return value;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        const translated = translatePgError(err);
        if (translated instanceof StoreError && translated.code === 'unavailable') broken = true;
        throw err;
      } finally {
        client.release(broken);
      }
    });
    if (changes) for (const change of changes(result)) this.announce(change);
    return result;
  }

  private announce(change: StoreChange): void {
    for (const listener of this.listeners) listener(change);
  }

  private async readClient(db: PoolClient | Pool, id: string): Promise<Client | undefined> {
    const { rows } = await db.query<ClientRow>(`${CLIENT_SELECT} WHERE c.id = $1`, [id]);
    return rows[0] && toClient(rows[0]);
  }

  private async readGroup(db: PoolClient | Pool, name: string): Promise<Group | undefined> {
    const { rows } = await db.query<GroupRow>(`${GROUP_SELECT} WHERE g.name = $1`, [name]);
    return rows[0] && toGroup(rows[0]);
  }

  /**
   * Optimistic locking (RFC 9110 §13.1.1): locks the client's row; false for an unknown id; throws a
   * `stale` StoreError (rolling back) when its version is not `expected`.
   */
  private async versionIs(db: PoolClient, id: string, expected: number): Promise<boolean> {
    const { rows } = await db.query<{ version: number | string }>('SELECT version FROM clients WHERE id = $1 FOR UPDATE', [id]);
    if (!rows[0]) return false;
    const version = num(rows[0].version);
    if (version !== expected) throw new StoreError('stale', `the client is at version ${version}, not ${expected}`);
    return true;
  }

  /** Locks a client's row for the rest of the transaction; false when there is none. */
  private async lockClient(db: PoolClient, id: string): Promise<boolean> {
    return ((await db.query('SELECT 1 FROM clients WHERE id = $1 FOR UPDATE', [id])).rowCount ?? 0) > 0;
  }

  private async touchClient(
    db: PoolClient,
    id: string,
    changes: ClientChanges,
    now: number,
    tokensNotBefore?: number,
  ): Promise<Client | undefined> {
    const { rowCount } = await db.query(TOUCH_CLIENT, [
      id,
      changes.name ?? null,
      changes.scopes?.join(' ') ?? null,
      changes.audiences?.join(' ') ?? null,
      changes.grantTypes?.join(' ') ?? null,
      changes.tokenFormat ?? null,
      changes.enabled ?? null,
      tokensNotBefore ?? null,
      now,
      changes.description ?? null,
      changes.tokenLifetime !== undefined,
      changes.tokenLifetime ?? null,
      changes.keys !== undefined,
      changes.keys === undefined ? null : keyColumns(changes.keys).jwks,
      changes.keys === undefined ? null : keyColumns(changes.keys).jwksUri,
      changes.requireDpop ?? null,
    ]);
    return rowCount === 0 ? undefined : this.readClient(db, id);
  }

  getClient(id: string): Promise<Client | undefined> {
    return this.run(() => this.readClient(this.pool, id));
  }

  async listClients(): Promise<Client[]> {
    const rows = await this.query<ClientRow>(`${CLIENT_SELECT} ORDER BY c.created_at, c.id COLLATE "C"`);
    return rows.map(toClient);
  }

  /** One page ordered by id: a keyset query (`id > after ORDER BY id LIMIT n`) with the filters ANDed, in one statement. */
  async listClientsPage(query: ClientQuery): Promise<ClientPage> {
    const rows = await this.query<ClientRow>(
      `${CLIENT_SELECT}
       WHERE c.id COLLATE "C" > $1::text
         AND ($2::text IS NULL OR c.name = $2::text)
         AND ($3::boolean IS NULL OR c.enabled = $3::boolean)
         AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM client_groups cg WHERE cg.client_id = c.id AND cg.group_name = $4::text))
         AND ($5::text IS NULL OR $5::text = ANY (string_to_array(c.scopes, ' '))
              OR EXISTS (SELECT 1 FROM client_groups cg JOIN groups g ON g.name = cg.group_name
                         WHERE cg.client_id = c.id AND $5::text = ANY (string_to_array(g.scopes, ' '))))
       ORDER BY c.id COLLATE "C" LIMIT $6`,
      // No cursor is '' (below every id): the range stays one the index serves, page after page.
      [query.after ?? '', query.name ?? null, query.enabled ?? null, query.group ?? null, query.scope ?? null, query.limit],
    );
    const clients = rows.map(toClient);
    const last = clients[clients.length - 1];
    return clients.length === query.limit && last ? { clients, nextAfter: last.id } : { clients };
  }

  createClient(client: NewClient, now: number): Promise<Client> {
    return this.transaction(
      async (db) => {
        await db.query(
          `INSERT INTO clients (id, name, scopes, audiences, grant_types, token_format, description, token_lifetime, jwks, jwks_uri, require_dpop, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $8, $9, $10, $11, $12, $7, $7)`,
          [
            client.id,
            client.name,
            client.scopes.join(' '),
            client.audiences.join(' '),
            client.grantTypes.join(' '),
            client.tokenFormat,
            now,
            client.description ?? '',
            client.tokenLifetime ?? null,
            keyColumns(client.keys ?? null).jwks,
            keyColumns(client.keys ?? null).jwksUri,
            client.requireDpop ?? false,
          ],
        );
        if (client.secretHash !== null) {
          await db.query('INSERT INTO client_secrets (client_id, hash, created_at) VALUES ($1, $2, $3)', [client.id, client.secretHash, now]);
        }
        if (client.groups !== undefined) await this.replaceMemberships(db, client.id, client.groups);
        return (await this.readClient(db, client.id)) as Client;
      },
      () => [{ kind: 'client', id: client.id }],
    );
  }

  updateClient(id: string, changes: ClientChanges, now: number): Promise<Client | undefined> {
    // Every field in one transaction: all of it or nothing.
    return this.transaction(async (db) => {
      if (changes.expectedVersion !== undefined && !(await this.versionIs(db, id, changes.expectedVersion))) return undefined;
      if (changes.groups !== undefined) {
        if (!(await this.lockClient(db, id))) return undefined;
        await this.replaceMemberships(db, id, changes.groups);
      }
      return this.touchClient(db, id, changes, now, changes.revokeTokensIssuedBefore);
    }, clientChanged(id));
  }

  /**
   * Makes `groups` the client's exact set; a group that does not exist throws a `not_found`
   * StoreError, rolling the transaction back. The groups' rows are share-locked, so none can be
   * deleted before the memberships commit.
   */
  private async replaceMemberships(db: PoolClient, id: string, groups: readonly string[]): Promise<void> {
    // Sorted: each insert bumps its group's version (a row lock), and one order for everyone keeps two writers from deadlocking.
    const wanted = [...new Set(groups)].sort();
    const { rows } = await db.query<{ name: string }>('SELECT name FROM groups WHERE name = ANY($1::text[]) FOR KEY SHARE', [wanted]);
    const found = new Set(rows.map((r) => r.name));
    const missing = wanted.find((name) => !found.has(name));
    if (missing !== undefined) throw new StoreError('not_found', `no group named ${JSON.stringify(missing)}`);
    await db.query('DELETE FROM client_groups WHERE client_id = $1', [id]);
    await db.query('INSERT INTO client_groups (client_id, group_name) SELECT $1, unnest($2::text[])', [id, wanted]);
  }

  rotateSecret(id: string, rotation: SecretRotation, now: number): Promise<Client | undefined> {
    return this.transaction(async (db) => {
      // The row lock serializes rotations of one client, so two at once still leave at most two secrets.
      if (rotation.expectedVersion !== undefined ? !(await this.versionIs(db, id, rotation.expectedVersion)) : !(await this.lockClient(db, id))) {
        return undefined;
      }
      const keepPrevious = rotation.previousValidUntil !== null && rotation.previousValidUntil > now;
      await db.query('DELETE FROM client_secrets WHERE client_id = $1 AND (expires_at IS NOT NULL OR $2::boolean)', [id, !keepPrevious]);
      if (keepPrevious) {
        await db.query('UPDATE client_secrets SET expires_at = $2 WHERE client_id = $1 AND expires_at IS NULL', [id, rotation.previousValidUntil]);
      }
      await db.query('INSERT INTO client_secrets (client_id, hash, created_at) VALUES ($1, $2, $3)', [id, rotation.hash, now]);
      return this.touchClient(db, id, {}, now, rotation.revokeTokensIssuedBefore);
    }, clientChanged(id));
  }

  deleteClient(id: string, options: { expectedVersion?: number } = {}): Promise<boolean> {
    return this.transaction(
      async (db) => {
        if (options.expectedVersion !== undefined && !(await this.versionIs(db, id, options.expectedVersion))) return false;
        return ((await db.query('DELETE FROM clients WHERE id = $1', [id])).rowCount ?? 0) > 0;
      },
      (deleted) => (deleted ? [{ kind: 'client', id }] : []),
    );
  }

  getGroup(name: string): Promise<Group | undefined> {
    return this.run(() => this.readGroup(this.pool, name));
  }

  async listGroups(): Promise<Group[]> {
    return (await this.query<GroupRow>(`${GROUP_SELECT} ORDER BY g.name COLLATE "C"`)).map(toGroup);
  }

  createGroup(group: NewGroup, now: number): Promise<Group> {
    return this.transaction(
      async (db) => {
        await db.query('INSERT INTO groups (name, scopes, audiences, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)', [
          group.name,
          group.scopes.join(' '),
          group.audiences.join(' '),
          now,
        ]);
        return (await this.readGroup(db, group.name)) as Group;
      },
      () => [{ kind: 'group', name: group.name }],
    );
  }

  updateGroup(name: string, changes: GroupChanges, now: number): Promise<Group | undefined> {
    return this.transaction(
      async (db) => {
        if (changes.expectedVersion !== undefined && !(await this.groupVersionIs(db, name, changes.expectedVersion))) return undefined;
        const { rowCount } = await db.query(
          'UPDATE groups SET scopes = coalesce($2::text, scopes), audiences = coalesce($3::text, audiences), version = version + 1, updated_at = $4 WHERE name = $1',
          [name, changes.scopes?.join(' ') ?? null, changes.audiences?.join(' ') ?? null, now],
        );
        if (rowCount === 0) return undefined;
        await db.query(BUMP_MEMBERS, [name]);
        return this.readGroup(db, name);
      },
      () => [{ kind: 'group', name }],
    );
  }

  deleteGroup(name: string, options: { force: boolean; expectedVersion?: number }): Promise<boolean> {
    return this.transaction(
      async (db) => {
        // The row lock makes a concurrent membership insert (whose foreign key check needs a share
        // lock on this row) wait, so the member count below cannot go stale before the delete.
        const { rows: locked } = await db.query<{ version: number | string }>('SELECT version FROM groups WHERE name = $1 FOR UPDATE', [name]);
        if (!locked[0]) return false;
        const version = num(locked[0].version);
        if (options.expectedVersion !== undefined && version !== options.expectedVersion) {
          throw new StoreError('stale', `the group is at version ${version}, not ${options.expectedVersion}`);
        }
        const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM client_groups WHERE group_name = $1', [name]);
        const members = Number(rows[0]?.n ?? 0);
        if (members > 0 && !options.force) {
          throw new StoreError('conflict', `group ${JSON.stringify(name)} still has ${members} member(s)`);
        }
        await db.query(BUMP_MEMBERS, [name]);
        await db.query('DELETE FROM groups WHERE name = $1', [name]);
        return true;
      },
      (deleted) => (deleted ? [{ kind: 'group', name }] : []),
    );
  }

  /** As {@link versionIs}, for a group's row. */
  private async groupVersionIs(db: PoolClient, name: string, expected: number): Promise<boolean> {
    const { rows } = await db.query<{ version: number | string }>('SELECT version FROM groups WHERE name = $1 FOR UPDATE', [name]);
    if (!rows[0]) return false;
    const version = num(rows[0].version);
    if (version !== expected) throw new StoreError('stale', `the group is at version ${version}, not ${expected}`);
    return true;
  }

  /** Locks the client's row; with a condition, also checks its version (a `stale` StoreError when it moved). */
  private async lockClientAt(db: PoolClient, id: string, condition: MembershipCondition): Promise<boolean> {
    return condition.expectedVersion === undefined ? this.lockClient(db, id) : this.versionIs(db, id, condition.expectedVersion);
  }

  addClientToGroup(clientId: string, group: string, now: number, condition: MembershipCondition = {}): Promise<Client | undefined> {
    return this.transaction(async (db) => {
      if (!(await this.lockClientAt(db, clientId, condition))) return undefined;
      if (((await db.query('SELECT 1 FROM groups WHERE name = $1 FOR KEY SHARE', [group])).rowCount ?? 0) === 0) return undefined;
      const { rowCount } = await db.query(
        'INSERT INTO client_groups (client_id, group_name) VALUES ($1, $2) ON CONFLICT DO NOTHING',
        [clientId, group],
      );
      return (rowCount ?? 0) > 0 ? this.touchClient(db, clientId, {}, now) : this.readClient(db, clientId);
    }, clientChanged(clientId));
  }

  removeClientFromGroup(clientId: string, group: string, now: number, condition: MembershipCondition = {}): Promise<Client | undefined> {
    return this.transaction(async (db) => {
      if (!(await this.lockClientAt(db, clientId, condition))) return undefined;
      const { rowCount } = await db.query('DELETE FROM client_groups WHERE client_id = $1 AND group_name = $2', [clientId, group]);
      return (rowCount ?? 0) > 0 ? this.touchClient(db, clientId, {}, now) : this.readClient(db, clientId);
    }, clientChanged(clientId));
  }

  setClientGroups(clientId: string, groups: readonly string[], now: number): Promise<Client | undefined> {
    return this.transaction(async (db) => {
      if (!(await this.lockClient(db, clientId))) return undefined;
      // Sorted, as in replaceMemberships: one lock order on the groups whose versions the inserts bump.
      const wanted = [...new Set(groups)].sort();
      const { rowCount } = await db.query('SELECT 1 FROM groups WHERE name = ANY($1::text[]) FOR KEY SHARE', [wanted]);
      if ((rowCount ?? 0) !== wanted.length) return undefined;
      await db.query('DELETE FROM client_groups WHERE client_id = $1', [clientId]);
      await db.query('INSERT INTO client_groups (client_id, group_name) SELECT $1, unnest($2::text[])', [clientId, wanted]);
      return this.touchClient(db, clientId, {}, now);
    }, clientChanged(clientId));
  }

  async listSigningKeys(now: number): Promise<StoredSigningKey[]> {
    const rows = await this.query<KeyRow>(
      'SELECT * FROM signing_keys WHERE retire_at IS NULL OR retire_at > $1 ORDER BY active DESC, created_at DESC',
      [now],
    );
    return rows.map(toKey);
  }

  ensureSigningKey(candidate: StoredSigningKey): Promise<StoredSigningKey> {
    return this.transaction(
      async (db) => {
        // One statement claims the single active slot (a unique partial index); a loser reads the winner's key.
        const inserted = await this.insertActiveKey(db, candidate);
        if (inserted) return inserted;
        const { rows } = await db.query<KeyRow>('SELECT * FROM signing_keys WHERE active');
        if (!rows[0]) throw new StoreError('busy', 'the active signing key changed meanwhile; try again');
        return toKey(rows[0]);
      },
      () => [{ kind: 'keys' }],
    );
  }

  /** Inserts `candidate` as the active key unless a key is active; resolves with it, or undefined when another key holds the slot. */
  private async insertActiveKey(db: PoolClient, candidate: StoredSigningKey): Promise<StoredSigningKey | undefined> {
    const { rowCount } = await db.query(
      `INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at, active, retire_at)
       VALUES ($1, $2, $3, $4, $5, true, NULL) ON CONFLICT (active) WHERE active DO NOTHING`,
      [candidate.kid, candidate.alg, candidate.privateKeyPem, JSON.stringify(candidate.publicJwk), candidate.createdAt],
    );
    return (rowCount ?? 0) > 0 ? { ...candidate, active: true, retireAt: null } : undefined;
  }

  rotateSigningKey(
    candidate: StoredSigningKey,
    expectedActiveKid: string | undefined,
    previousRetireAt: number,
  ): Promise<{ active: StoredSigningKey; rotated: boolean }> {
    return this.transaction(
      async (db) => {
        // Compare-and-swap: only the active key this caller saw is retired. A second rotator waits on
        // the row lock, then finds the row no longer active and rotates nothing.
        // A key that stops signing keeps only its public half: no token will need its private key again.
        if (expectedActiveKid !== undefined) {
          await db.query('UPDATE signing_keys SET active = false, retire_at = $2, private_key = NULL WHERE active AND kid = $1', [
            expectedActiveKid,
            previousRetireAt,
          ]);
        }
        const inserted = await this.insertActiveKey(db, candidate);
        if (inserted) {
          // Keys whose public half is no longer published go with the rotation (they verify nothing).
          await db.query('DELETE FROM signing_keys WHERE NOT active AND retire_at <= $1', [candidate.createdAt]);
          return { active: inserted, rotated: true };
        }
        const { rows } = await db.query<KeyRow>('SELECT * FROM signing_keys WHERE active');
        if (!rows[0]) throw new StoreError('busy', 'the active signing key changed meanwhile; try again');
        return { active: toKey(rows[0]), rotated: false };
      },
      () => [{ kind: 'keys' }],
    );
  }

  /**
   * Deletes a key that is not the active one (`key retire`); every instance reloads its keys on the
   * change. Resolves false for an unknown or the active kid.
   */
  deleteSigningKey(kid: string): Promise<boolean> {
    return this.transaction(
      async (db) => ((await db.query('DELETE FROM signing_keys WHERE kid = $1 AND NOT active', [kid])).rowCount ?? 0) > 0,
      (deleted) => (deleted ? [{ kind: 'keys' }] : []),
    );
  }

  /**
   * Replaces stored private keys, each only while it still holds `from` (compare-and-set: two
   * instances sealing at once cannot clobber each other). Resolves how many rows changed.
   */
  resealSigningKeys(changes: readonly { kid: string; from: string; to: string }[]): Promise<number> {
    if (changes.length === 0) return Promise.resolve(0);
    return this.transaction(
      async (db) => {
        let changed = 0;
        for (const c of changes) {
          changed += (await db.query('UPDATE signing_keys SET private_key = $3 WHERE kid = $1 AND private_key = $2', [c.kid, c.from, c.to])).rowCount ?? 0;
        }
        return changed;
      },
      (changed) => (changed > 0 ? [{ kind: 'keys' }] : []),
    );
  }

  /**
   * Claims `id` in `namespace` until `expiresAt` (RFC 7523 §3 item 7, RFC 9449 §11.1): true for the
   * first claim, false while an unexpired one exists. One statement inserts the claim or takes over
   * an expired row, so two instances racing on one id cannot both win. Expired claims go with the
   * cleanup timer.
   */
  async claimOnce(namespace: string, id: string, expiresAt: number, now: number): Promise<boolean> {
    const rows = await this.query(
      `INSERT INTO replay_claims (namespace, id, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (namespace, id) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE replay_claims.expires_at <= $4
       RETURNING 1`,
      [namespace, id, expiresAt, now],
    );
    return rows.length > 0;
  }

  publishNextSigningKey(
    candidate: StoredSigningKey & { activateAt: number },
    expectedActiveKid: string | undefined,
  ): Promise<{ next: StoredSigningKey | undefined; published: boolean }> {
    return this.transaction(
      async (db) => {
        // The active key's row lock orders publishers and promoters; the unique index on the next
        // slot makes the insert itself the claim.
        const { rows: active } = await db.query<{ kid: string }>('SELECT kid FROM signing_keys WHERE active FOR UPDATE');
        const existing = await this.readNextKey(db);
        if (existing) return { next: existing, published: false };
        if (active[0]?.kid !== expectedActiveKid) return { next: undefined, published: false };
        const { rowCount } = await db.query(
          `INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at, active, retire_at, activate_at)
           VALUES ($1, $2, $3, $4, $5, false, NULL, $6) ON CONFLICT (active) WHERE NOT active AND retire_at IS NULL DO NOTHING`,
          [candidate.kid, candidate.alg, candidate.privateKeyPem, JSON.stringify(candidate.publicJwk), candidate.createdAt, candidate.activateAt],
        );
        if ((rowCount ?? 0) > 0) return { next: { ...candidate, active: false, retireAt: null }, published: true };
        return { next: await this.readNextKey(db), published: false };
      },
      (result) => (result.published ? [{ kind: 'keys' }] : []),
    );
  }

  promoteNextSigningKey(
    nextKid: string,
    expectedActiveKid: string | undefined,
    previousRetireAt: number,
    now: number,
  ): Promise<{ active: StoredSigningKey | undefined; rotated: boolean }> {
    return this.transaction(
      async (db) => {
        // Compare-and-set under the row locks of both keys: of several instances promoting at once, one does.
        const { rows: current } = await db.query<KeyRow>('SELECT * FROM signing_keys WHERE active FOR UPDATE');
        const { rows: next } = await db.query<KeyRow>('SELECT * FROM signing_keys WHERE NOT active AND retire_at IS NULL FOR UPDATE');
        const active = current[0] && toKey(current[0]);
        if (active?.kid !== expectedActiveKid || next[0]?.kid !== nextKid) return { active, rotated: false };
        await db.query('UPDATE signing_keys SET active = false, retire_at = $1, private_key = NULL WHERE active', [previousRetireAt]);
        const { rows } = await db.query<KeyRow>(
          'UPDATE signing_keys SET active = true, activate_at = least(coalesce(activate_at, $2), $2) WHERE kid = $1 RETURNING *',
          [nextKid, now],
        );
        await db.query('DELETE FROM signing_keys WHERE NOT active AND retire_at <= $1', [now]);
        return { active: rows[0] && toKey(rows[0]), rotated: true };
      },
      (result) => (result.rotated ? [{ kind: 'keys' }] : []),
    );
  }

  private async readNextKey(db: PoolClient): Promise<StoredSigningKey | undefined> {
    const { rows } = await db.query<KeyRow>('SELECT * FROM signing_keys WHERE NOT active AND retire_at IS NULL');
    return rows[0] && toKey(rows[0]);
  }

  async revokeToken(token: RevokedToken, _now: number): Promise<boolean> {
    // One statement: a second revocation of the same jti (from any instance) claims nothing.
    const rows = await this.query(
      'INSERT INTO revoked_tokens (jti, client_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING RETURNING jti',
      [token.jti, token.clientId, token.expiresAt],
    );
    if (rows.length > 0) this.announce({ kind: 'revoked', jti: token.jti, expiresAt: token.expiresAt });
    return rows.length > 0;
  }

  async listRevokedTokens(now: number): Promise<RevokedToken[]> {
    const rows = await this.query<{ jti: string; client_id: string; expires_at: string | number }>(
      'SELECT jti, client_id, expires_at FROM revoked_tokens WHERE expires_at > $1',
      [now],
    );
    return rows.map((r) => ({ jti: r.jti, clientId: r.client_id, expiresAt: num(r.expires_at) }));
  }

  async listClientStatuses(): Promise<ClientStatus[]> {
    const rows = await this.query<{ id: string; enabled: boolean; tokens_not_before: string | number }>(
      'SELECT id, enabled, tokens_not_before FROM clients',
    );
    return rows.map((r) => ({ id: r.id, enabled: r.enabled, tokensNotBefore: num(r.tokens_not_before) }));
  }

  async saveReferenceToken(token: StoredReferenceToken, _now: number): Promise<void> {
    // Expired rows go on the cleanup timer, not on this request's path.
    await this.query(
      'INSERT INTO reference_tokens (token_hash, jti, client_id, claims, expires_at) VALUES ($1, $2, $3, $4, $5)',
      [token.tokenHash, token.jti, token.clientId, JSON.stringify(token.claims), token.expiresAt],
    );
  }

  async findReferenceToken(tokenHash: string, now: number): Promise<StoredReferenceToken | undefined> {
    const rows = await this.query<ReferenceRow>('SELECT * FROM reference_tokens WHERE token_hash = $1 AND expires_at > $2', [tokenHash, now]);
    return rows[0] && toReference(rows[0]);
  }

  async listReferenceTokens(clientId: string, now: number, limit: number): Promise<StoredReferenceToken[]> {
    const rows = await this.query<ReferenceRow>(
      'SELECT * FROM reference_tokens WHERE client_id = $1 AND expires_at > $2 ORDER BY expires_at, jti COLLATE "C" LIMIT $3',
      [clientId, now, limit],
    );
    return rows.map(toReference);
  }

  async findReferenceTokenByJti(jti: string, now: number): Promise<StoredReferenceToken | undefined> {
    const rows = await this.query<ReferenceRow>('SELECT * FROM reference_tokens WHERE jti = $1 AND expires_at > $2', [jti, now]);
    return rows[0] && toReference(rows[0]);
  }

  /**
   * Deletes expired revocations, reference tokens and replay claims in batches of `cleanupBatchSize` rows found by
   * the expiry index, at most ten batches per table, so a run never scans or locks a whole table.
   * Resolves with the number of rows deleted. The cleanup timer calls it; tests call it directly.
   */
  async purgeExpired(now: number): Promise<number> {
    let deleted = 0;
    for (const table of ['revoked_tokens', 'reference_tokens', 'replay_claims']) {
      for (let batch = 0; batch < MAX_CLEANUP_BATCHES; batch++) {
        const count = await this.run(async () => {
          const result = await this.pool.query(
            `DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE expires_at <= $1 LIMIT $2)`,
            [now, this.cleanupBatchSize],
          );
          return result.rowCount ?? 0;
        });
        deleted += count;
        if (count < this.cleanupBatchSize) break;
      }
    }
    return deleted;
  }

  private startCleanup(): void {
    if (this.cleanupTimer || this.closed) return;
    this.cleanupTimer = setInterval(() => {
      this.purgeExpired(this.now()).catch((err: unknown) => this.onError(err));
    }, this.cleanupInterval);
    this.cleanupTimer.unref();
  }

  async revision(): Promise<number> {
    const rows = await this.query<{ value: string | number }>('SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS value FROM revision');
    return num(rows[0]?.value ?? 0);
  }

  /**
   * The bcrypt cost of this database's secrets: `initial` is stored unless a cost is stored already
   * (one INSERT ... ON CONFLICT DO NOTHING, so instances opening a new database agree), then the
   * stored cost is read.
   */
  async bcryptCost(initial: number): Promise<number> {
    await this.query("INSERT INTO settings (key, value) VALUES ('bcrypt_cost', $1) ON CONFLICT (key) DO NOTHING", [initial]);
    const rows = await this.query<{ value: string | number }>("SELECT value FROM settings WHERE key = 'bcrypt_cost'");
    return num(rows[0]?.value ?? initial);
  }

  /** `SELECT 1` on a pooled connection (readiness probes); an unreachable database rejects with an `unavailable` StoreError. */
  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  /** The listener hears this process's changes at once, and every instance's through LISTEN/NOTIFY (started on the first listener). */
  onChange(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener);
    if (!this.closed) this.changeListener.start();
    return () => this.listeners.delete(listener);
  }

  /** Whether the LISTEN connection is up (for health checks). */
  get listening(): boolean {
    return this.changeListener.connected;
  }

  /**
   * True while the LISTEN connection is up: this process's changes are announced as they commit, and
   * every other instance's as its notification arrives (milliseconds; a lost one is found by the
   * `pollInterval` poll). No query is made.
   */
  syncNow(): boolean {
    return !this.closed && this.listeners.size > 0 && this.changeListener.connected;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    this.cleanupTimer = undefined;
    await this.changeListener.stop();
    await this.opening?.catch(() => undefined);
    await this.pool.end();
  }
}

function clientChanged(id: string): (result: Client | undefined) => StoreChange[] {
  return (result) => (result ? [{ kind: 'client', id }] : []);
}

/** Double-quotes an identifier for `search_path` (RFC-free: PostgreSQL's own quoting rule). */
function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
