// The embedded default store: better-sqlite3, statements prepared once, named binds, multi-statement changes in transactions.
import Database from 'better-sqlite3';
import { effectiveGrants, type Client, type ClientSecret, type TokenFormat } from '../core/model/client';
import type { Group } from '../core/model/group';
import type { PublicJwk, SigningAlgorithm, StoredSigningKey } from '../core/tokens/keys';
import { checkSchemaVersion, migrate } from './migrations';
import { removeCreatedFiles, secureDatabaseFiles } from './file-mode';
import type { AccessTokenClaims } from '../core/tokens/jwt';
import {
  StoreError,
  type ClientChanges,
  type ClientStatus,
  type GroupChanges,
  type NewClient,
  type NewGroup,
  type RevokedToken,
  type SecretRotation,
  type Store,
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
  created_at: number;
  updated_at: number;
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
    enabled: row.enabled === 1,
    secrets: secrets.map(
      (s): ClientSecret => ({ hash: s.hash, createdAt: s.created_at, expiresAt: s.expires_at }),
    ),
    version: row.version,
    tokensNotBefore: row.tokens_not_before,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The one place a group's rows become a domain object. */
function toGroup(row: FullGroupRow, members: { client_id: string }[]): Group {
  return {
    name: row.name,
    scopes: list(row.scopes),
    audiences: list(row.audiences),
    members: members.map((m) => m.client_id),
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
  };
}

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
    throw new StoreError(code, `${message}: ${path}`, { cause: err });
  }
}

/**
 * {@link Store} on better-sqlite3. Takes a database the caller owns (see {@link openSqliteDatabase})
 * and migrates it; {@link SqliteStore.open} opens a file and owns it.
 *
 * @example
 * const store = SqliteStore.open('./oauth.sqlite');
 */
export class SqliteStore implements Store {
  private readonly listeners = new Set<() => void>();
  private readonly stmt;
  private readonly ownsDatabase: boolean;
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
        `INSERT INTO clients (id, name, scopes, audiences, grant_types, token_format, created_at, updated_at)
         VALUES (:id, :name, :scopes, :audiences, :grant_types, :token_format, :now, :now)`,
      ),
      insertSecret: db.prepare(
        'INSERT INTO client_secrets (client_id, hash, created_at, expires_at) VALUES (:id, :hash, :now, :expires_at)',
      ),
      updateClient: db.prepare(
        `UPDATE clients SET name = coalesce(:name, name), scopes = coalesce(:scopes, scopes),
           audiences = coalesce(:audiences, audiences), grant_types = coalesce(:grant_types, grant_types),
           token_format = coalesce(:token_format, token_format), enabled = coalesce(:enabled, enabled),
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
      group: db.prepare<[{ name: string }], FullGroupRow>('SELECT * FROM groups WHERE name = :name'),
      groups: db.prepare<[], FullGroupRow>('SELECT * FROM groups ORDER BY name'),
      members: db.prepare<[{ name: string }], { client_id: string }>(
        'SELECT client_id FROM client_groups WHERE group_name = :name ORDER BY client_id',
      ),
      insertGroup: db.prepare(
        'INSERT INTO groups (name, scopes, audiences, created_at, updated_at) VALUES (:name, :scopes, :audiences, :now, :now)',
      ),
      updateGroup: db.prepare(
        `UPDATE groups SET scopes = coalesce(:scopes, scopes), audiences = coalesce(:audiences, audiences), updated_at = :now
         WHERE name = :name`,
      ),
      deleteGroup: db.prepare('DELETE FROM groups WHERE name = :name'),
      // A group change alters what its members may get: their version moves so caches keyed on it drop them.
      bumpMembers: db.prepare(
        'UPDATE clients SET version = version + 1 WHERE id IN (SELECT client_id FROM client_groups WHERE group_name = :name)',
      ),
      addMembership: db.prepare('INSERT OR IGNORE INTO client_groups (client_id, group_name) VALUES (:id, :group)'),
      removeMembership: db.prepare('DELETE FROM client_groups WHERE client_id = :id AND group_name = :group'),
      clearMemberships: db.prepare('DELETE FROM client_groups WHERE client_id = :id'),
      revision: db.prepare<[], { value: number }>("SELECT value FROM meta WHERE key = 'revision'"),
      // The meta table (key → integer) holds shared settings too; no schema change needed.
      initSetting: db.prepare<[{ key: string; value: number }]>('INSERT OR IGNORE INTO meta (key, value) VALUES (:key, :value)'),
      setting: db.prepare<[{ key: string }], { value: number }>('SELECT value FROM meta WHERE key = :key'),
      ping: db.prepare<[], { ok: number }>('SELECT 1 AS ok'),
      keys: db.prepare<[{ now: number }], KeyRow>(
        'SELECT * FROM signing_keys WHERE retire_at IS NULL OR retire_at > :now ORDER BY active DESC, created_at DESC',
      ),
      activeKey: db.prepare<[], KeyRow>('SELECT * FROM signing_keys WHERE active = 1'),
      insertKey: db.prepare(
        `INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at, active, retire_at)
         VALUES (:kid, :alg, :private_key, :public_jwk, :created_at, :active, :retire_at)`,
      ),
      // A key that stops signing keeps only its public half: no token will ever need its private key again.
      retireActiveKey: db.prepare('UPDATE signing_keys SET active = 0, retire_at = :retire_at, private_key = NULL WHERE active = 1'),
      purgeRetiredKeys: db.prepare('DELETE FROM signing_keys WHERE active = 0 AND retire_at <= :now'),
      deleteInactiveKey: db.prepare('DELETE FROM signing_keys WHERE kid = :kid AND active = 0'),
      resealKey: db.prepare('UPDATE signing_keys SET private_key = :to WHERE kid = :kid AND private_key = :from'),
      revoke: db.prepare(
        'INSERT INTO revoked_tokens (jti, client_id, expires_at) VALUES (:jti, :client_id, :expires_at) ON CONFLICT (jti) DO NOTHING',
      ),
      purgeRevoked: db.prepare('DELETE FROM revoked_tokens WHERE expires_at <= :now'),
      revoked: db.prepare<[{ now: number }], { jti: string; client_id: string; expires_at: number }>(
        'SELECT jti, client_id, expires_at FROM revoked_tokens WHERE expires_at > :now',
      ),
      clientStatuses: db.prepare<[], { id: string; enabled: number; tokens_not_before: number }>(
        'SELECT id, enabled, tokens_not_before FROM clients',
      ),
      insertReference: db.prepare(
        `INSERT INTO reference_tokens (token_hash, jti, client_id, claims, expires_at)
         VALUES (:token_hash, :jti, :client_id, :claims, :expires_at)`,
      ),
      purgeReferences: db.prepare('DELETE FROM reference_tokens WHERE expires_at <= :now'),
      reference: db.prepare<[{ token_hash: string; now: number }], { token_hash: string; jti: string; client_id: string; claims: string; expires_at: number }>(
        'SELECT * FROM reference_tokens WHERE token_hash = :token_hash AND expires_at > :now',
      ),
    };
    this.readClientSnapshot = db.transaction((id: string) => this.readClient(id));
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

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  /** Runs a write in a transaction, translating errors and telling listeners when it committed. */
  private write<T>(fn: () => T): Promise<T> {
    return run(() => {
      const result = this.db.transaction(fn).immediate();
      this.changed();
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
      tokens_not_before: tokensNotBefore ?? null,
      now,
    });
    return count === 0 ? undefined : this.readClient(id);
  }

  rotateSecret(id: string, rotation: SecretRotation, now: number): Promise<Client | undefined> {
    return this.write(() => {
      if (!this.stmt.client.get({ id })) return undefined;
      const keepPrevious = rotation.previousValidUntil !== null && rotation.previousValidUntil > now;
      // At most two secrets: any secret already in its grace period goes; the current one either
      // enters its grace period or goes too.
      this.stmt.dropOldSecrets.run({ id, cut: keepPrevious ? 0 : 1 });
      if (keepPrevious) this.stmt.expireCurrentSecret.run({ id, until: rotation.previousValidUntil });
      this.stmt.insertSecret.run({ id, hash: rotation.hash, now, expires_at: null });
      return this.applyChanges(id, {}, now, rotation.revokeTokensIssuedBefore);
    });
  }

  deleteClient(id: string): Promise<boolean> {
    return this.write(() => this.stmt.deleteClient.run({ id }).changes > 0);
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

  deleteGroup(name: string, options: { force: boolean }): Promise<boolean> {
    return this.write(() => {
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

  addClientToGroup(clientId: string, group: string, now: number): Promise<Client | undefined> {
    return this.write(() => {
      if (!this.stmt.client.get({ id: clientId }) || !this.stmt.group.get({ name: group })) return undefined;
      const added = this.stmt.addMembership.run({ id: clientId, group }).changes > 0;
      return added ? this.applyChanges(clientId, {}, now, undefined) : this.readClient(clientId);
    });
  }

  removeClientFromGroup(clientId: string, group: string, now: number): Promise<Client | undefined> {
    return this.write(() => {
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

  listRevokedTokens(now: number): Promise<RevokedToken[]> {
    return run(() =>
      this.stmt.revoked.all({ now }).map((r) => ({ jti: r.jti, clientId: r.client_id, expiresAt: r.expires_at })),
    );
  }

  listClientStatuses(): Promise<ClientStatus[]> {
    return run(() =>
      this.stmt.clientStatuses
        .all()
        .map((r) => ({ id: r.id, enabled: r.enabled === 1, tokensNotBefore: r.tokens_not_before })),
    );
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
      return (
        row && {
          tokenHash: row.token_hash,
          jti: row.jti,
          clientId: row.client_id,
          claims: JSON.parse(row.claims) as AccessTokenClaims,
          expiresAt: row.expires_at,
        }
      );
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

  onChange(listener: () => void): () => void {
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
