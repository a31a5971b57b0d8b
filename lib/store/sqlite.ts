// The embedded default store: better-sqlite3, statements prepared once, named binds, multi-statement changes in transactions.
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { effectiveGrants, type Client, type ClientJwks, type ClientSecret, type TokenFormat } from '../core/model/client';
import type { Group } from '../core/model/group';
import type { PublicJwk, SigningAlgorithm, StoredSigningKey } from '../core/tokens/keys';
import { CHANGE_LOG_LENGTH, checkSchemaVersion, migrate } from './migrations';
import { removeCreatedFiles, secureDatabaseFiles } from './file-mode';
import type { AccessTokenClaims } from '../core/tokens/jwt';
import {
  StoreError,
  type ClientChanges,
  type ClientPage,
  type ClientQuery,
  type ClientStatus,
  type GroupChanges,
  type MembershipCondition,
  type NewClient,
  type NewGroup,
  type ClientKeys,
  type RevokedToken,
  type SecretRotation,
  type Store,
  type StoreChange,
  type StoredReferenceToken,
} from './types';

interface ClientRow {
  id: string;
  name: string;
  scopes: string;
  audiences: string;
  grant_types: string;
  token_format: string;
  enabled: number;
  version: number;
  tokens_not_before: number;
  description: string;
  token_lifetime: number | null;
  created_at: number;
  updated_at: number;
  jwks: string | null;
  jwks_uri: string | null;
  require_dpop: number;
}
interface LogRow {
  position: number;
  kind: 'client' | 'group' | 'keys' | 'revoked' | 'purge';
  ref: string | null;
  expires_at: number | null;
}
/** Rows read per page when the whole revocation state is loaded; the event loop runs between pages. */
const PAGE = 2000;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
interface ClientPageBinds {
  after: string;
  name: string | null;
  enabled: number | null;
  grp: string | null;
  scope: string | null;
  limit: number;
}
interface ReferenceRow {
  token_hash: string;
  jti: string;
  client_id: string;
  claims: string;
  expires_at: number;
}
/** The one place a reference token's row becomes a domain object. */
function toReference(row: ReferenceRow): StoredReferenceToken {
  return {
    tokenHash: row.token_hash,
    jti: row.jti,
    clientId: row.client_id,
    claims: JSON.parse(row.claims) as AccessTokenClaims,
    expiresAt: row.expires_at,
  };
}
interface SecretRow {
  hash: string;
  created_at: number;
  expires_at: number | null;
}
interface GroupRow {
  name: string;
  scopes: string;
  audiences: string;
}
interface FullGroupRow extends GroupRow {
  version: number;
  created_at: number;
  updated_at: number;
}
interface KeyRow {
  kid: string;
  alg: string;
  private_key: string | null;
  public_jwk: string;
  created_at: number;
  active: number;
  retire_at: number | null;
  activate_at: number | null;
}

/** Splits a stored space-delimited list. */
function list(value: string): string[] {
  return value === '' ? [] : value.split(' ');
}

/** The one place a client's rows become a domain object. */
function toClient(row: ClientRow, secrets: SecretRow[], groups: GroupRow[]): Client {
  const scopes = list(row.scopes);
  const audiences = list(row.audiences);
  return {
    id: row.id,
    name: row.name,
    scopes,
    audiences,
    groups: groups.map((g) => g.name),
    ...effectiveGrants(
      { scopes, audiences },
      groups.map((g) => ({ scopes: list(g.scopes), audiences: list(g.audiences) })),
    ),
    grantTypes: list(row.grant_types),
    tokenFormat: row.token_format as TokenFormat,
    description: row.description,
    tokenLifetime: row.token_lifetime,
    enabled: row.enabled === 1,
    secrets: secrets.map(
      (s): ClientSecret => ({ hash: s.hash, createdAt: s.created_at, expiresAt: s.expires_at }),
    ),
    version: row.version,
    tokensNotBefore: row.tokens_not_before,
    jwks: row.jwks === null ? null : (JSON.parse(row.jwks) as ClientJwks),
    jwksUri: row.jwks_uri,
    requireDpop: row.require_dpop === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Rows of several clients, grouped by client id (order kept). */
function byClient<T extends { client_id: string }>(rows: T[]): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const row of rows) {
    const list = map.get(row.client_id);
    if (list) list.push(row);
    else map.set(row.client_id, [row]);
  }
  return map;
}

/** The one place a group's rows become a domain object. */
function toGroup(row: FullGroupRow, members: { client_id: string }[]): Group {
  return {
    name: row.name,
    scopes: list(row.scopes),
    audiences: list(row.audiences),
    members: members.map((m) => m.client_id),
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toKey(row: KeyRow): StoredSigningKey {
  return {
    kid: row.kid,
    alg: row.alg as SigningAlgorithm,
    privateKeyPem: row.private_key,
    publicJwk: JSON.parse(row.public_jwk) as PublicJwk,
    createdAt: row.created_at,
    active: row.active === 1,
    retireAt: row.retire_at,
    activateAt: row.activate_at,
  };
}

/** A client's keys as its two columns: inline JSON or a URI, never both. */
function keyColumns(keys: ClientKeys | null): { jwks: string | null; jwks_uri: string | null } {
  if (keys === null) return { jwks: null, jwks_uri: null };
  return 'jwks' in keys ? { jwks: JSON.stringify(keys.jwks), jwks_uri: null } : { jwks: null, jwks_uri: keys.jwksUri };
}

/** Expired replay claims removed per claim: purging stays bounded however many piled up. */
const REPLAY_PURGE_BATCH = 100;

/** The one place better-sqlite3's errors become domain errors. */
export function translateSqliteError(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return err;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError('busy', 'the database is locked by another process; try again', { cause: err });
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new StoreError('readonly', 'the database is read-only', { cause: err });
  }
  if (code.startsWith('SQLITE_CONSTRAINT_PRIMARYKEY') || code.startsWith('SQLITE_CONSTRAINT_UNIQUE')) {
    return new StoreError('conflict', 'that record exists already', { cause: err });
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT')) {
    return new StoreError('unavailable', 'the database cannot be opened', { cause: err });
  }
  return err;
}

/** Runs a synchronous database call, translating its errors; the async store methods build on it. */
/** The delta a change-log row stands for; undefined for one that voids nothing (an expired revocation deleted). */
function toChange(row: LogRow): StoreChange | undefined {
  switch (row.kind) {
    case 'client':
      return row.ref === null ? { kind: 'all' } : { kind: 'client', id: row.ref };
    case 'group':
      return row.ref === null ? { kind: 'all' } : { kind: 'group', name: row.ref };
    case 'keys':
      return { kind: 'keys' };
    case 'revoked':
      return row.ref === null || row.expires_at === null ? { kind: 'all' } : { kind: 'revoked', jti: row.ref, expiresAt: row.expires_at };
    case 'purge':
      return undefined;
  }
}

function run<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(translateSqliteError(err));
  }
}

/** How {@link openSqliteDatabase} opens a file. */
export interface OpenSqliteOptions {
  /** How long (ms) a write waits for a database another process is writing. Default 5000. */
  busyTimeout?: number;
  /** Where a warning about the file's permissions goes (see secureDatabaseFiles); default console.warn. */
  onWarning?: (message: string) => void;
}

/**
 * Opens (creating if needed) a SQLite database file with the settings the store relies on:
 * owner-only files (created 0600; see {@link secureDatabaseFiles}), WAL (readers never wait for the
 * writer), foreign keys on, and a bounded wait on a locked file.
 */
export function openSqliteDatabase(path: string, options: OpenSqliteOptions = {}): Database.Database {
  let db: Database.Database | undefined;
  let created: string[] = [];
  try {
    created = secureDatabaseFiles(path, options.onWarning ?? ((message) => console.warn(`[express-client-credentials] ${message}`)));
    db = new Database(path, { timeout: options.busyTimeout ?? 5000 });
    checkSchemaVersion(db);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    return db;
  } catch (err) {
    db?.close();
    removeCreatedFiles(created);
    if (err instanceof StoreError && err.code === 'insecure') throw err;
    // better-sqlite3 throws a plain TypeError for a missing directory: every failure here is the file's.
    const translated = translateSqliteError(err);
    const code = translated instanceof StoreError ? translated.code : 'unavailable';
    const message = translated instanceof StoreError ? translated.message : 'the database cannot be opened';
    const reason = code === 'unavailable' ? whyUnopenable(path, err) : undefined;
    throw new StoreError(code, `${message}: ${path}${reason ? ` (${reason})` : ''}`, { cause: err });
  }
}

/**
 * Why a database file cannot be opened, in words an operator can act on: SQLite's own errors say
 * little ("unable to open database file") and nothing about which of the usual causes it is.
 */
function whyUnopenable(path: string, err: unknown): string | undefined {
  const sqliteCode = (err as { code?: unknown } | null)?.code;
  if (sqliteCode === 'SQLITE_NOTADB') return 'the file is not a SQLite database';
  if (sqliteCode === 'SQLITE_CORRUPT') return 'the database file is corrupt';
  if (path === ':memory:' || path === '') return undefined;
  try {
    if (statSync(path).isDirectory()) return 'it is a directory';
    accessSync(path, fsConstants.R_OK | fsConstants.W_OK);
  } catch (statErr: unknown) {
    const code = (statErr as { code?: unknown } | null)?.code;
    if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return undefined;
    const parent = dirname(resolve(path));
    try {
      if (!statSync(parent).isDirectory()) return `${parent} is not a directory`;
      accessSync(parent, fsConstants.W_OK);
    } catch (parentErr: unknown) {
      const parentCode = (parentErr as { code?: unknown } | null)?.code;
      if (parentCode === 'ENOENT' || parentCode === 'ENOTDIR') return `the directory ${parent} does not exist`;
      if (parentCode === 'EACCES' || parentCode === 'EPERM') return `permission denied on the directory ${parent}`;
    }
    return undefined;
  }
  return undefined;
}

/**
 * {@link Store} on better-sqlite3. Takes a database the caller owns (see {@link openSqliteDatabase})
 * and migrates it; {@link SqliteStore.open} opens a file and owns it.
 *
 * @example
 * const store = SqliteStore.open('./oauth.sqlite');
 */
export class SqliteStore implements Store {
  private readonly listeners = new Set<(change: StoreChange) => void>();
  private readonly stmt;
  private readonly ownsDatabase: boolean;
  private readonly readLog: (position: number) => { revision: number; rows: LogRow[] };
  /** The revision and change-log position of the last change announced to listeners. */
  private seen: { revision: number; position: number };
  /** `PRAGMA data_version` when {@link syncNow} last caught up: unchanged means no other connection committed since. */
  private dataVersion: number | undefined;
  /** A client's three reads in one snapshot; built once, since better-sqlite3's transaction() wrapper costs more than the reads. */
  private readonly readClientSnapshot: (id: string) => Client | undefined;

  constructor(
    readonly db: Database.Database,
    options: { ownsDatabase?: boolean } = {},
  ) {
    this.ownsDatabase = options.ownsDatabase ?? false;
    try {
      db.pragma('foreign_keys = ON');
      migrate(db);
    } catch (err) {
      throw translateSqliteError(err);
    }
    this.stmt = {
      client: db.prepare<[{ id: string }], ClientRow>('SELECT * FROM clients WHERE id = :id'),
      clients: db.prepare<[], ClientRow>('SELECT * FROM clients ORDER BY created_at, id'),
      secrets: db.prepare<[{ id: string }], SecretRow>(
        'SELECT hash, created_at, expires_at FROM client_secrets WHERE client_id = :id ORDER BY expires_at IS NOT NULL, created_at DESC, id DESC',
      ),
      groupsOf: db.prepare<[{ id: string }], GroupRow>(
        `SELECT g.name, g.scopes, g.audiences FROM client_groups cg JOIN groups g ON g.name = cg.group_name
         WHERE cg.client_id = :id ORDER BY g.name`,
      ),
      insertClient: db.prepare(
        `INSERT INTO clients (id, name, scopes, audiences, grant_types, token_format, description, token_lifetime, jwks, jwks_uri, require_dpop, created_at, updated_at)
         VALUES (:id, :name, :scopes, :audiences, :grant_types, :token_format, :description, :token_lifetime, :jwks, :jwks_uri, :require_dpop, :now, :now)`,
      ),
      insertSecret: db.prepare(
        'INSERT INTO client_secrets (client_id, hash, created_at, expires_at) VALUES (:id, :hash, :now, :expires_at)',
      ),
      updateClient: db.prepare(
        `UPDATE clients SET name = coalesce(:name, name), scopes = coalesce(:scopes, scopes),
           audiences = coalesce(:audiences, audiences), grant_types = coalesce(:grant_types, grant_types),
           token_format = coalesce(:token_format, token_format), enabled = coalesce(:enabled, enabled),
           description = coalesce(:description, description),
           token_lifetime = CASE WHEN :set_lifetime = 1 THEN :token_lifetime ELSE token_lifetime END,
           jwks = CASE WHEN :set_keys = 1 THEN :jwks ELSE jwks END,
           jwks_uri = CASE WHEN :set_keys = 1 THEN :jwks_uri ELSE jwks_uri END,
           require_dpop = coalesce(:require_dpop, require_dpop),
           tokens_not_before = max(tokens_not_before, coalesce(:tokens_not_before, 0)),
           version = version + 1, updated_at = :now
         WHERE id = :id`,
      ),
      dropOldSecrets: db.prepare(
        'DELETE FROM client_secrets WHERE client_id = :id AND (expires_at IS NOT NULL OR :cut = 1)',
      ),
      expireCurrentSecret: db.prepare(
        'UPDATE client_secrets SET expires_at = :until WHERE client_id = :id AND expires_at IS NULL',
      ),
      deleteClient: db.prepare('DELETE FROM clients WHERE id = :id'),
      clientVersion: db.prepare<[{ id: string }], { version: number }>('SELECT version FROM clients WHERE id = :id'),
      // Keyset pagination with optional filters (a NULL bind disables its filter); the scope filter
      // matches a whole space-delimited token, directly or through a group. The cursor is a plain
      // range on the primary key ('' before the first page), so each page searches the index from
      // its cursor: an `:after IS NULL OR` around it made every page scan from the first id.
      clientPage: db.prepare<[ClientPageBinds], ClientRow>(
        `SELECT * FROM clients c
         WHERE c.id > :after
           AND (:name IS NULL OR c.name = :name)
           AND (:enabled IS NULL OR c.enabled = :enabled)
           AND (:grp IS NULL OR EXISTS (SELECT 1 FROM client_groups cg WHERE cg.client_id = c.id AND cg.group_name = :grp))
           AND (:scope IS NULL OR instr(' ' || c.scopes || ' ', ' ' || :scope || ' ') > 0
                OR EXISTS (SELECT 1 FROM client_groups cg JOIN groups g ON g.name = cg.group_name
                           WHERE cg.client_id = c.id AND instr(' ' || g.scopes || ' ', ' ' || :scope || ' ') > 0))
         ORDER BY c.id LIMIT :limit`,
      ),
      group: db.prepare<[{ name: string }], FullGroupRow>('SELECT * FROM groups WHERE name = :name'),
      groups: db.prepare<[], FullGroupRow>('SELECT * FROM groups ORDER BY name'),
      members: db.prepare<[{ name: string }], { client_id: string }>(
        'SELECT client_id FROM client_groups WHERE group_name = :name ORDER BY client_id',
      ),
      insertGroup: db.prepare(
        'INSERT INTO groups (name, scopes, audiences, created_at, updated_at) VALUES (:name, :scopes, :audiences, :now, :now)',
      ),
      updateGroup: db.prepare(
        `UPDATE groups SET scopes = coalesce(:scopes, scopes), audiences = coalesce(:audiences, audiences),
           version = version + 1, updated_at = :now
         WHERE name = :name`,
      ),
      deleteGroup: db.prepare('DELETE FROM groups WHERE name = :name'),
      groupVersion: db.prepare<[{ name: string }], { version: number }>('SELECT version FROM groups WHERE name = :name'),
      // A group change alters what its members may get: their version moves so caches keyed on it drop them.
      bumpMembers: db.prepare(
        'UPDATE clients SET version = version + 1 WHERE id IN (SELECT client_id FROM client_groups WHERE group_name = :name)',
      ),
      addMembership: db.prepare('INSERT OR IGNORE INTO client_groups (client_id, group_name) VALUES (:id, :group)'),
      removeMembership: db.prepare('DELETE FROM client_groups WHERE client_id = :id AND group_name = :group'),
      clearMemberships: db.prepare('DELETE FROM client_groups WHERE client_id = :id'),
      revision: db.prepare<[], { value: number }>("SELECT value FROM meta WHERE key = 'revision'"),
      logSince: db.prepare<[{ position: number; limit: number }], LogRow>(
        'SELECT position, kind, ref, expires_at FROM change_log WHERE position > :position ORDER BY position LIMIT :limit',
      ),
      logEnd: db.prepare<[], { position: number }>('SELECT coalesce(max(position), 0) AS position FROM change_log'),
      // The meta table (key → integer) holds shared settings too; no schema change needed.
      initSetting: db.prepare<[{ key: string; value: number }]>('INSERT OR IGNORE INTO meta (key, value) VALUES (:key, :value)'),
      setting: db.prepare<[{ key: string }], { value: number }>('SELECT value FROM meta WHERE key = :key'),
      ping: db.prepare<[], { ok: number }>('SELECT 1 AS ok'),
      // Moves when another connection (process) commits; this connection's own commits leave it.
      dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
      keys: db.prepare<[{ now: number }], KeyRow>(
        'SELECT * FROM signing_keys WHERE retire_at IS NULL OR retire_at > :now ORDER BY active DESC, created_at DESC',
      ),
      activeKey: db.prepare<[], KeyRow>('SELECT * FROM signing_keys WHERE active = 1'),
      insertKey: db.prepare(
        `INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at, active, retire_at)
         VALUES (:kid, :alg, :private_key, :public_jwk, :created_at, :active, :retire_at)`,
      ),
      nextKey: db.prepare<[], KeyRow>('SELECT * FROM signing_keys WHERE active = 0 AND retire_at IS NULL'),
      insertNextKey: db.prepare(
        `INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at, active, retire_at, activate_at)
         VALUES (:kid, :alg, :private_key, :public_jwk, :created_at, 0, NULL, :activate_at)`,
      ),
      promoteKey: db.prepare(
        'UPDATE signing_keys SET active = 1, activate_at = min(coalesce(activate_at, :now), :now) WHERE kid = :kid AND active = 0 AND retire_at IS NULL',
      ),
      key: db.prepare<[{ kid: string }], KeyRow>('SELECT * FROM signing_keys WHERE kid = :kid'),
      // A key that stops signing keeps only its public half: no token will ever need its private key again.
      retireActiveKey: db.prepare('UPDATE signing_keys SET active = 0, retire_at = :retire_at, private_key = NULL WHERE active = 1'),
      purgeRetiredKeys: db.prepare('DELETE FROM signing_keys WHERE active = 0 AND retire_at <= :now'),
      deleteInactiveKey: db.prepare('DELETE FROM signing_keys WHERE kid = :kid AND active = 0'),
      resealKey: db.prepare('UPDATE signing_keys SET private_key = :to WHERE kid = :kid AND private_key = :from'),
      revoke: db.prepare(
        'INSERT INTO revoked_tokens (jti, client_id, expires_at) VALUES (:jti, :client_id, :expires_at) ON CONFLICT (jti) DO NOTHING',
      ),
      purgeRevoked: db.prepare('DELETE FROM revoked_tokens WHERE expires_at <= :now'),
      // Keyset pages, so a large registry is read a page at a time with the event loop free in between.
      revoked: db.prepare<[{ now: number; after: string; limit: number }], { jti: string; client_id: string; expires_at: number }>(
        'SELECT jti, client_id, expires_at FROM revoked_tokens WHERE jti > :after AND expires_at > :now ORDER BY jti LIMIT :limit',
      ),
      clientStatuses: db.prepare<[{ after: string; limit: number }], { id: string; enabled: number; tokens_not_before: number }>(
        'SELECT id, enabled, tokens_not_before FROM clients WHERE id > :after ORDER BY id LIMIT :limit',
      ),
      insertReference: db.prepare(
        `INSERT INTO reference_tokens (token_hash, jti, client_id, claims, expires_at)
         VALUES (:token_hash, :jti, :client_id, :claims, :expires_at)`,
      ),
      purgeReferences: db.prepare('DELETE FROM reference_tokens WHERE expires_at <= :now'),
      // RFC 7523 §3 / RFC 9449 §11.1: one statement inserts the claim or takes over an expired one;
      // a live claim makes it change nothing, so a replay is refused by the database itself.
      claim: db.prepare(
        `INSERT INTO replay_claims (namespace, id, expires_at) VALUES (:namespace, :id, :expires_at)
         ON CONFLICT (namespace, id) DO UPDATE SET expires_at = excluded.expires_at WHERE replay_claims.expires_at <= :now`,
      ),
      purgeClaims: db.prepare(
        `DELETE FROM replay_claims WHERE (namespace, id) IN
           (SELECT namespace, id FROM replay_claims WHERE expires_at <= :now LIMIT ${REPLAY_PURGE_BATCH})`,
      ),
      // A page's secrets and groups in one query each (ids as a JSON array): 3 queries a page, not 2 per client.
      pageSecrets: db.prepare<[{ ids: string }], SecretRow & { client_id: string }>(
        `SELECT client_id, hash, created_at, expires_at FROM client_secrets
         WHERE client_id IN (SELECT value FROM json_each(:ids))
         ORDER BY client_id, expires_at IS NOT NULL, created_at DESC, id DESC`,
      ),
      pageGroups: db.prepare<[{ ids: string }], GroupRow & { client_id: string }>(
        `SELECT cg.client_id, g.name, g.scopes, g.audiences FROM client_groups cg JOIN groups g ON g.name = cg.group_name
         WHERE cg.client_id IN (SELECT value FROM json_each(:ids)) ORDER BY cg.client_id, g.name`,
      ),
      referencesOf: db.prepare<[{ client_id: string; now: number; limit: number }], ReferenceRow>(
        'SELECT * FROM reference_tokens WHERE client_id = :client_id AND expires_at > :now ORDER BY expires_at, jti LIMIT :limit',
      ),
      referenceByJti: db.prepare<[{ jti: string; now: number }], ReferenceRow>(
        'SELECT * FROM reference_tokens WHERE jti = :jti AND expires_at > :now',
      ),
      reference: db.prepare<[{ token_hash: string; now: number }], ReferenceRow>(
        'SELECT * FROM reference_tokens WHERE token_hash = :token_hash AND expires_at > :now',
      ),
    };
    this.readClientSnapshot = db.transaction((id: string) => this.readClient(id));
    // The revision and the log read in one snapshot, so they describe the same changes.
    this.readLog = db.transaction((position: number) => ({
      revision: (this.stmt.revision.get() as { value: number }).value,
      rows: this.stmt.logSince.all({ position, limit: CHANGE_LOG_LENGTH }),
    }));
    this.seen = db.transaction(() => ({
      revision: (this.stmt.revision.get() as { value: number }).value,
      position: (this.stmt.logEnd.get() as { position: number }).position,
    }))();
  }

  /** Opens (creating and migrating) the database file at `path`; {@link close} closes it. */
  static open(path: string, options: OpenSqliteOptions = {}): SqliteStore {
    const db = openSqliteDatabase(path, options);
    try {
      return new SqliteStore(db, { ownsDatabase: true });
    } catch (err) {
      db.close();
      throw err;
    }
  }

  private readClient(id: string): Client | undefined {
    const row = this.stmt.client.get({ id });
    return row && toClient(row, this.stmt.secrets.all({ id }), this.stmt.groupsOf.all({ id }));
  }

  private announce(change: StoreChange): void {
    for (const listener of this.listeners) listener(change);
  }

  /**
   * Announces every change since the last announcement, whoever made it, as deltas read from the
   * change log. Every row change moves the revision by one and adds one log entry; when the log
   * holds fewer entries than the revision moved (it was trimmed, or a table it does not know
   * changed), listeners are told to reload everything instead.
   */
  private announceChanges(): void {
    if (this.listeners.size === 0 || !this.db.open) return;
    const { revision, rows } = this.readLog(this.seen.position);
    if (revision === this.seen.revision && rows.length === 0) return;
    const complete = rows.length === revision - this.seen.revision;
    this.seen = { revision, position: rows.at(-1)?.position ?? this.seen.position };
    if (!complete) {
      // Whatever the log missed, the next catch-up starts from where the log is now.
      this.seen.position = (this.stmt.logEnd.get() as { position: number }).position;
      this.announce({ kind: 'all' });
      return;
    }
    for (const row of rows) {
      const change = toChange(row);
      if (change) this.announce(change);
    }
  }

  catchUp(): Promise<void> {
    return run(() => this.announceChanges());
  }

  /**
   * One `PRAGMA data_version` read (no table read): when another connection has committed since the
   * last call, the change log is read and announced at once, so afterwards every committed change has
   * been announced. False when no one listens or the database cannot be read.
   */
  syncNow(): boolean {
    if (this.listeners.size === 0 || !this.db.open) return false;
    try {
      const version = this.stmt.dataVersion.get() as number;
      if (version !== this.dataVersion) {
        this.announceChanges();
        this.dataVersion = version;
      }
      return true;
    } catch {
      return false;
    }
  }

  /** Runs a write in a transaction, translating errors and telling listeners when it committed. */
  private write<T>(fn: () => T): Promise<T> {
    return run(() => {
      const result = this.db.transaction(fn).immediate();
      try {
        this.announceChanges();
      } catch {
        // The write committed; listeners that cannot hear what changed reload everything.
        this.announce({ kind: 'all' });
      }
      return result;
    });
  }

  getClient(id: string): Promise<Client | undefined> {
    return run(() => this.readClientSnapshot(id));
  }

  listClients(): Promise<Client[]> {
    return run(() =>
      this.db.transaction(() =>
        this.stmt.clients.all().map((row) => toClient(row, this.stmt.secrets.all({ id: row.id }), this.stmt.groupsOf.all({ id: row.id }))),
      )(),
    );
  }

  createClient(client: NewClient, now: number): Promise<Client> {
    return this.write(() => {
      this.stmt.insertClient.run({
        id: client.id,
        name: client.name,
        scopes: client.scopes.join(' '),
        audiences: client.audiences.join(' '),
        grant_types: client.grantTypes.join(' '),
        token_format: client.tokenFormat,
        description: client.description ?? '',
        token_lifetime: client.tokenLifetime ?? null,
        ...keyColumns(client.keys ?? null),
        require_dpop: client.requireDpop ? 1 : 0,
        now,
      });
      if (client.secretHash !== null) {
        this.stmt.insertSecret.run({ id: client.id, hash: client.secretHash, now, expires_at: null });
      }
      if (client.groups !== undefined) this.replaceMemberships(client.id, client.groups);
      return this.readClient(client.id) as Client;
    });
  }

  updateClient(id: string, changes: ClientChanges, now: number): Promise<Client | undefined> {
    return this.write(() => {
      if (changes.expectedVersion !== undefined && !this.versionIs(id, changes.expectedVersion)) return undefined;
      if (changes.groups !== undefined) {
        if (!this.stmt.client.get({ id })) return undefined;
        this.replaceMemberships(id, changes.groups);
      }
      return this.applyChanges(id, changes, now, changes.revokeTokensIssuedBefore);
    });
  }

  /** Makes `groups` the client's exact set; throws (rolling the transaction back) for a group that does not exist. */
  private replaceMemberships(id: string, groups: readonly string[]): void {
    for (const name of groups) {
      if (!this.stmt.group.get({ name })) throw new StoreError('not_found', `no group named ${JSON.stringify(name)}`);
    }
    this.stmt.clearMemberships.run({ id });
    for (const group of new Set(groups)) this.stmt.addMembership.run({ id, group });
  }

  private applyChanges(id: string, changes: ClientChanges, now: number, tokensNotBefore: number | undefined) {
    const { changes: count } = this.stmt.updateClient.run({
      id,
      name: changes.name ?? null,
      scopes: changes.scopes?.join(' ') ?? null,
      audiences: changes.audiences?.join(' ') ?? null,
      grant_types: changes.grantTypes?.join(' ') ?? null,
      token_format: changes.tokenFormat ?? null,
      enabled: changes.enabled === undefined ? null : changes.enabled ? 1 : 0,
      description: changes.description ?? null,
      set_lifetime: changes.tokenLifetime === undefined ? 0 : 1,
      token_lifetime: changes.tokenLifetime ?? null,
      set_keys: changes.keys === undefined ? 0 : 1,
      ...keyColumns(changes.keys ?? null),
      require_dpop: changes.requireDpop === undefined ? null : changes.requireDpop ? 1 : 0,
      tokens_not_before: tokensNotBefore ?? null,
      now,
    });
    return count === 0 ? undefined : this.readClient(id);
  }

  rotateSecret(id: string, rotation: SecretRotation, now: number): Promise<Client | undefined> {
    return this.write(() => {
      if (rotation.expectedVersion !== undefined ? !this.versionIs(id, rotation.expectedVersion) : !this.stmt.client.get({ id })) return undefined;
      const keepPrevious = rotation.previousValidUntil !== null && rotation.previousValidUntil > now;
      // At most two secrets: any secret already in its grace period goes; the current one either
      // enters its grace period or goes too.
      this.stmt.dropOldSecrets.run({ id, cut: keepPrevious ? 0 : 1 });
      if (keepPrevious) this.stmt.expireCurrentSecret.run({ id, until: rotation.previousValidUntil });
      this.stmt.insertSecret.run({ id, hash: rotation.hash, now, expires_at: null });
      return this.applyChanges(id, {}, now, rotation.revokeTokensIssuedBefore);
    });
  }

  deleteClient(id: string, options: { expectedVersion?: number } = {}): Promise<boolean> {
    return this.write(() => {
      if (options.expectedVersion !== undefined && !this.versionIs(id, options.expectedVersion)) return false;
      return this.stmt.deleteClient.run({ id }).changes > 0;
    });
  }

  /**
   * Inside a write transaction: false for an unknown id; throws `stale` (rolling back) when the
   * client's version is not `expected`.
   */
  private versionIs(id: string, expected: number): boolean {
    const row = this.stmt.clientVersion.get({ id });
    if (!row) return false;
    if (row.version !== expected) {
      throw new StoreError('stale', `the client is at version ${row.version}, not ${expected}`);
    }
    return true;
  }

  listClientsPage(query: ClientQuery): Promise<ClientPage> {
    return run(() =>
      this.db.transaction(() => {
        const rows = this.stmt.clientPage.all({
          after: query.after ?? '',
          name: query.name ?? null,
          enabled: query.enabled === undefined ? null : query.enabled ? 1 : 0,
          grp: query.group ?? null,
          scope: query.scope ?? null,
          limit: query.limit,
        });
        const ids = JSON.stringify(rows.map((r) => r.id));
        const secrets = byClient(this.stmt.pageSecrets.all({ ids }));
        const groups = byClient(this.stmt.pageGroups.all({ ids }));
        const clients = rows.map((row) => toClient(row, secrets.get(row.id) ?? [], groups.get(row.id) ?? []));
        const last = rows[rows.length - 1];
        return rows.length === query.limit && last ? { clients, nextAfter: last.id } : { clients };
      })(),
    );
  }

  private readGroup(name: string): Group | undefined {
    const row = this.stmt.group.get({ name });
    return row && toGroup(row, this.stmt.members.all({ name }));
  }

  getGroup(name: string): Promise<Group | undefined> {
    return run(() => this.db.transaction(() => this.readGroup(name))());
  }

  listGroups(): Promise<Group[]> {
    return run(() =>
      this.db.transaction(() => this.stmt.groups.all().map((row) => toGroup(row, this.stmt.members.all({ name: row.name }))))(),
    );
  }

  createGroup(group: NewGroup, now: number): Promise<Group> {
    return this.write(() => {
      this.stmt.insertGroup.run({ name: group.name, scopes: group.scopes.join(' '), audiences: group.audiences.join(' '), now });
      return this.readGroup(group.name) as Group;
    });
  }

  updateGroup(name: string, changes: GroupChanges, now: number): Promise<Group | undefined> {
    return this.write(() => {
      if (changes.expectedVersion !== undefined && !this.groupVersionIs(name, changes.expectedVersion)) return undefined;
      const { changes: count } = this.stmt.updateGroup.run({
        name,
        scopes: changes.scopes?.join(' ') ?? null,
        audiences: changes.audiences?.join(' ') ?? null,
        now,
      });
      if (count === 0) return undefined;
      this.stmt.bumpMembers.run({ name });
      return this.readGroup(name);
    });
  }

  deleteGroup(name: string, options: { force: boolean; expectedVersion?: number }): Promise<boolean> {
    return this.write(() => {
      if (options.expectedVersion !== undefined && !this.groupVersionIs(name, options.expectedVersion)) return false;
      const group = this.readGroup(name);
      if (!group) return false;
      if (group.members.length > 0 && !options.force) {
        throw new StoreError('conflict', `group ${JSON.stringify(name)} still has ${group.members.length} member(s)`);
      }
      this.stmt.bumpMembers.run({ name });
      this.stmt.deleteGroup.run({ name });
      return true;
    });
  }

  /** Inside a write transaction, as {@link versionIs} for a group. */
  private groupVersionIs(name: string, expected: number): boolean {
    const row = this.stmt.groupVersion.get({ name });
    if (!row) return false;
    if (row.version !== expected) throw new StoreError('stale', `the group is at version ${row.version}, not ${expected}`);
    return true;
  }

  addClientToGroup(clientId: string, group: string, now: number, condition: MembershipCondition = {}): Promise<Client | undefined> {
    return this.write(() => {
      if (condition.expectedVersion !== undefined && !this.versionIs(clientId, condition.expectedVersion)) return undefined;
      if (!this.stmt.client.get({ id: clientId }) || !this.stmt.group.get({ name: group })) return undefined;
      const added = this.stmt.addMembership.run({ id: clientId, group }).changes > 0;
      return added ? this.applyChanges(clientId, {}, now, undefined) : this.readClient(clientId);
    });
  }

  removeClientFromGroup(clientId: string, group: string, now: number, condition: MembershipCondition = {}): Promise<Client | undefined> {
    return this.write(() => {
      if (condition.expectedVersion !== undefined && !this.versionIs(clientId, condition.expectedVersion)) return undefined;
      if (!this.stmt.client.get({ id: clientId })) return undefined;
      const removed = this.stmt.removeMembership.run({ id: clientId, group }).changes > 0;
      return removed ? this.applyChanges(clientId, {}, now, undefined) : this.readClient(clientId);
    });
  }

  setClientGroups(clientId: string, groups: readonly string[], now: number): Promise<Client | undefined> {
    return this.write(() => {
      if (!this.stmt.client.get({ id: clientId })) return undefined;
      if (groups.some((name) => !this.stmt.group.get({ name }))) return undefined;
      this.stmt.clearMemberships.run({ id: clientId });
      for (const group of new Set(groups)) this.stmt.addMembership.run({ id: clientId, group });
      return this.applyChanges(clientId, {}, now, undefined);
    });
  }

  listSigningKeys(now: number): Promise<StoredSigningKey[]> {
    return run(() => this.stmt.keys.all({ now }).map(toKey));
  }

  ensureSigningKey(candidate: StoredSigningKey): Promise<StoredSigningKey> {
    return this.write(() => {
      const existing = this.stmt.activeKey.get();
      if (existing) return toKey(existing);
      return this.insertActiveKey(candidate);
    });
  }

  /** Inserts `candidate` as the active key; the caller has made sure no other key is active. */
  private insertActiveKey(candidate: StoredSigningKey): StoredSigningKey {
    this.stmt.insertKey.run({
      kid: candidate.kid,
      alg: candidate.alg,
      private_key: candidate.privateKeyPem,
      public_jwk: JSON.stringify(candidate.publicJwk),
      created_at: candidate.createdAt,
      active: 1,
      retire_at: null,
    });
    return { ...candidate, active: true, retireAt: null };
  }

  rotateSigningKey(
    candidate: StoredSigningKey,
    expectedActiveKid: string | undefined,
    previousRetireAt: number,
  ): Promise<{ active: StoredSigningKey; rotated: boolean }> {
    return this.write(() => {
      const current = this.stmt.activeKey.get();
      if (current && current.kid !== expectedActiveKid) return { active: toKey(current), rotated: false };
      this.stmt.retireActiveKey.run({ retire_at: previousRetireAt });
      // Keys whose public half is no longer published go with the rotation (they verify nothing).
      this.stmt.purgeRetiredKeys.run({ now: candidate.createdAt });
      return { active: this.insertActiveKey(candidate), rotated: true };
    });
  }

  publishNextSigningKey(
    candidate: StoredSigningKey & { activateAt: number },
    expectedActiveKid: string | undefined,
  ): Promise<{ next: StoredSigningKey | undefined; published: boolean }> {
    return this.write(() => {
      const existing = this.stmt.nextKey.get();
      if (existing) return { next: toKey(existing), published: false };
      if (this.stmt.activeKey.get()?.kid !== expectedActiveKid) return { next: undefined, published: false };
      this.stmt.insertNextKey.run({
        kid: candidate.kid,
        alg: candidate.alg,
        private_key: candidate.privateKeyPem,
        public_jwk: JSON.stringify(candidate.publicJwk),
        created_at: candidate.createdAt,
        activate_at: candidate.activateAt,
      });
      return { next: { ...candidate, active: false, retireAt: null }, published: true };
    });
  }

  promoteNextSigningKey(
    nextKid: string,
    expectedActiveKid: string | undefined,
    previousRetireAt: number,
    now: number,
  ): Promise<{ active: StoredSigningKey | undefined; rotated: boolean }> {
    return this.write(() => {
      const current = this.stmt.activeKey.get();
      const next = this.stmt.nextKey.get();
      if (current?.kid !== expectedActiveKid || next?.kid !== nextKid) {
        return { active: current && toKey(current), rotated: false };
      }
      this.stmt.retireActiveKey.run({ retire_at: previousRetireAt });
      this.stmt.promoteKey.run({ kid: nextKid, now });
      this.stmt.purgeRetiredKeys.run({ now });
      return { active: toKey(this.stmt.key.get({ kid: nextKid }) as KeyRow), rotated: true };
    });
  }

  deleteSigningKey(kid: string): Promise<boolean> {
    return this.write(() => this.stmt.deleteInactiveKey.run({ kid }).changes > 0);
  }

  resealSigningKeys(changes: readonly { kid: string; from: string; to: string }[]): Promise<number> {
    if (changes.length === 0) return Promise.resolve(0);
    return this.write(() => changes.reduce((n, c) => n + this.stmt.resealKey.run(c).changes, 0));
  }

  revokeToken(token: RevokedToken, now: number): Promise<boolean> {
    return this.write(() => {
      this.stmt.purgeRevoked.run({ now });
      return this.stmt.revoke.run({ jti: token.jti, client_id: token.clientId, expires_at: token.expiresAt }).changes > 0;
    });
  }

  /** Read a page at a time, yielding between pages: with 100,000 rows no one synchronous read blocks the event loop. */
  async listRevokedTokens(now: number): Promise<RevokedToken[]> {
    const all: RevokedToken[] = [];
    for (let after = ''; ; await nextTurn()) {
      const page = await run(() => this.stmt.revoked.all({ now, after, limit: PAGE }));
      for (const r of page) all.push({ jti: r.jti, clientId: r.client_id, expiresAt: r.expires_at });
      if (page.length < PAGE) return all;
      after = (page.at(-1) as { jti: string }).jti;
    }
  }

  /** Read a page at a time, as {@link listRevokedTokens}. */
  async listClientStatuses(): Promise<ClientStatus[]> {
    const all: ClientStatus[] = [];
    for (let after = ''; ; await nextTurn()) {
      const page = await run(() => this.stmt.clientStatuses.all({ after, limit: PAGE }));
      for (const r of page) all.push({ id: r.id, enabled: r.enabled === 1, tokensNotBefore: r.tokens_not_before });
      if (page.length < PAGE) return all;
      after = (page.at(-1) as { id: string }).id;
    }
  }

  saveReferenceToken(token: StoredReferenceToken, now: number): Promise<void> {
    // reference_tokens is not a watched table: a new token changes no cache, so no revision bump.
    return run(() => {
      this.db.transaction(() => {
        this.stmt.purgeReferences.run({ now });
        this.stmt.insertReference.run({
          token_hash: token.tokenHash,
          jti: token.jti,
          client_id: token.clientId,
          claims: JSON.stringify(token.claims),
          expires_at: token.expiresAt,
        });
      }).immediate();
    });
  }

  findReferenceToken(tokenHash: string, now: number): Promise<StoredReferenceToken | undefined> {
    return run(() => {
      const row = this.stmt.reference.get({ token_hash: tokenHash, now });
      return row && toReference(row);
    });
  }

  listReferenceTokens(clientId: string, now: number, limit: number): Promise<StoredReferenceToken[]> {
    return run(() => this.stmt.referencesOf.all({ client_id: clientId, now, limit }).map(toReference));
  }

  findReferenceTokenByJti(jti: string, now: number): Promise<StoredReferenceToken | undefined> {
    return run(() => {
      const row = this.stmt.referenceByJti.get({ jti, now });
      return row && toReference(row);
    });
  }


  claimOnce(namespace: string, id: string, expiresAt: number, now: number): Promise<boolean> {
    return run(() => {
      const claimed = this.stmt.claim.run({ namespace, id, expires_at: expiresAt, now }).changes > 0;
      this.stmt.purgeClaims.run({ now });
      return claimed;
    });
  }

  revision(): Promise<number> {
    return run(() => (this.stmt.revision.get() as { value: number }).value);
  }

  /** `SELECT 1` on the open database; rejects (a closed database, a broken file) with a StoreError. */
  ping(): Promise<void> {
    return run(() => {
      if (!this.db.open) throw new StoreError('unavailable', 'the database is closed');
      this.stmt.ping.get();
    });
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  bcryptCost(initial: number): Promise<number> {
    // Not through write(): inserting a setting is no change caches must hear about.
    return run(() => {
      this.stmt.initSetting.run({ key: 'bcrypt_cost', value: initial });
      return (this.stmt.setting.get({ key: 'bcrypt_cost' }) as { value: number }).value;
    });
  }

  async close(): Promise<void> {
    this.listeners.clear();
    if (this.ownsDatabase && this.db.open) this.db.close();
  }
}
