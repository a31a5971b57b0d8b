// The async storage interface every backend implements (SQLite now, a networked database later), and its error type.
export { StoreError, type StoreErrorCode } from '../core/model/store-error';
import type { Client, ClientJwks, TokenFormat } from '../core/model/client';
import type { Group } from '../core/model/group';
import type { StoredSigningKey } from '../core/model/key';
import type { AccessTokenClaims } from '../core/model/claims';

/** What a new client is stored with. The secret arrives already hashed. */
export interface NewClient {
  id: string;
  name: string;
  scopes: string[];
  audiences: string[];
  grantTypes: string[];
  tokenFormat: TokenFormat;
  /** bcrypt hash of the secret, or null for a client without one (public, or proving itself with keys). */
  secretHash: string | null;
  /** Free text for people; '' when omitted. */
  description?: string;
  /** Seconds, or null/omitted for the instance's accessTokenLifetime. */
  tokenLifetime?: number | null;
  /**
   * Groups the client joins, in the same transaction as its creation (so a client is never left
   * without the groups it was created with). A group that does not exist rejects the whole creation
   * with a `not_found` {@link StoreError}.
   */
  groups?: readonly string[];
  /** Public keys for `private_key_jwt` (RFC 7523 §2.2); absent means none. */
  keys?: ClientKeys | null;
  /** RFC 9449 §5.2: the client's tokens must be DPoP-bound. Absent means false. */
  requireDpop?: boolean;
}

/** A client's public keys: inline (RFC 7591 `jwks`) or by reference (`jwks_uri`), never both. */
export type ClientKeys = { jwks: ClientJwks } | { jwksUri: string };

/** Fields of a client an administrator may change. Omitted fields stay as they are. */
export interface ClientChanges {
  name?: string;
  scopes?: string[];
  audiences?: string[];
  grantTypes?: string[];
  tokenFormat?: TokenFormat;
  enabled?: boolean;
  description?: string;
  /** Seconds; `null` goes back to the instance's accessTokenLifetime. */
  tokenLifetime?: number | null;
  /**
   * Optimistic locking (RFC 9110 §13.1.1 If-Match): when set, the change applies only while the
   * client's `version` is this one, checked in the same transaction; otherwise it rejects with a
   * `stale` {@link StoreError} and nothing changes.
   */
  expectedVersion?: number;
  /**
   * When set, tokens issued before this instant (epoch ms) stop being valid for good: the client's
   * `tokensNotBefore` moves up to it (never back). A disable sets it, so an enable later does not
   * bring the tokens issued before the disable back.
   */
  revokeTokensIssuedBefore?: number;
  /**
   * The client's exact set of groups afterwards. Every field of one `updateClient` call is applied in
   * one transaction: all of it or nothing. A group that does not exist rejects the whole change with
   * a `not_found` {@link StoreError}.
   */
  groups?: readonly string[];
  /** Replaces the client's public keys (inline or by URI); `null` removes them. */
  keys?: ClientKeys | null;
  requireDpop?: boolean;
}

/**
 * One page of clients (keyset pagination on the id: no OFFSET, so a page costs the same at any depth)
 * with optional filters, all ANDed.
 */
export interface ClientQuery {
  /** Only clients whose id sorts after this one (the previous page's last id). */
  after?: string;
  /** Page size, 1 to 1000. */
  limit: number;
  /** Exact client name. */
  name?: string;
  /** Member of this group. */
  group?: string;
  enabled?: boolean;
  /** Holds this scope, directly or through one of its groups. */
  scope?: string;
}

/** A page of clients ordered by id; `nextAfter` is the last id when more may follow. */
export interface ClientPage {
  clients: Client[];
  nextAfter?: string;
}

/** A secret rotation: the new hash, and what happens to the secret it replaces. */
export interface SecretRotation {
  hash: string;
  /** Until when (epoch ms) the previous current secret stays valid; `null` or a past time cuts it at once. */
  previousValidUntil: number | null;
  /** When set, tokens issued before this instant (epoch ms) stop being valid. */
  revokeTokensIssuedBefore?: number;
  /** Optimistic locking, as {@link ClientChanges.expectedVersion}: rotate only while the client is at this version. */
  expectedVersion?: number;
}

/** Clients and their secrets. Every method resolves; none returns a secret, only hashes. */
export interface ClientStore {
  getClient(id: string): Promise<Client | undefined>;
  /** Every client at once: for small registries and tests; administration pages with {@link listClientsPage}. */
  listClients(): Promise<Client[]>;
  /**
   * One page of clients ordered by id, filtered: a keyset query (`id > after ORDER BY id LIMIT n`),
   * never a full read, so listing costs memory per page whatever the registry's size.
   */
  listClientsPage(query: ClientQuery): Promise<ClientPage>;
  /** Rejects with a `conflict` {@link StoreError} when the id exists. */
  createClient(client: NewClient, now: number): Promise<Client>;
  /** Applies every field of `changes` in one transaction. Resolves undefined for an unknown id. */
  updateClient(id: string, changes: ClientChanges, now: number): Promise<Client | undefined>;
  /** Makes `rotation.hash` the current secret; at most two secrets stay valid. Undefined for an unknown id. */
  rotateSecret(id: string, rotation: SecretRotation, now: number): Promise<Client | undefined>;
  /**
   * Resolves false for an unknown id. With `expectedVersion`, deletes only while the client's version
   * is that one (else rejects with a `stale` {@link StoreError}).
   */
  deleteClient(id: string, options?: { expectedVersion?: number }): Promise<boolean>;
}

/** What a new group is stored with. */
export interface NewGroup {
  name: string;
  scopes: string[];
  audiences: string[];
}

/** Fields of a group an administrator may change. Omitted fields stay as they are. */
export interface GroupChanges {
  scopes?: string[];
  audiences?: string[];
  /**
   * Optimistic locking (RFC 9110 §13.1.1 If-Match): apply only while the group's `version` is this
   * one, checked in the same transaction; otherwise reject with a `stale` {@link StoreError}.
   */
  expectedVersion?: number;
}

/** The condition of a membership change: the client's version (the admin API's If-Match on the client). */
export interface MembershipCondition {
  /** Apply only while the client is at this version, else reject with a `stale` {@link StoreError}. */
  expectedVersion?: number;
}

/**
 * Groups and memberships. Every change that alters what a client may get also increments that
 * client's `version`, so whatever is cached by client version is dropped with it; every change to a
 * group (scopes, audiences, a member joining or leaving) increments the group's `version`.
 */
export interface GroupStore {
  getGroup(name: string): Promise<Group | undefined>;
  listGroups(): Promise<Group[]>;
  /** Rejects with a `conflict` {@link StoreError} when the name exists. */
  createGroup(group: NewGroup, now: number): Promise<Group>;
  /** Resolves undefined for an unknown name. */
  updateGroup(name: string, changes: GroupChanges, now: number): Promise<Group | undefined>;
  /**
   * Resolves false for an unknown name. Rejects with a `conflict` {@link StoreError} while the group
   * has members, unless `force` (then the memberships go with it). With `expectedVersion`, deletes
   * only while the group's version is that one (else rejects with a `stale` {@link StoreError}).
   */
  deleteGroup(name: string, options: { force: boolean; expectedVersion?: number }): Promise<boolean>;
  /** Adds a membership (a no-op when it exists). Undefined when the client or the group is unknown. */
  addClientToGroup(clientId: string, group: string, now: number, condition?: MembershipCondition): Promise<Client | undefined>;
  /** Removes a membership (a no-op when there is none). Undefined for an unknown client. */
  removeClientFromGroup(clientId: string, group: string, now: number, condition?: MembershipCondition): Promise<Client | undefined>;
  /** Makes `groups` the client's exact set of groups. Undefined when the client or any group is unknown. */
  setClientGroups(clientId: string, groups: readonly string[], now: number): Promise<Client | undefined>;
}

/** Signing keys, private parts included: the store is the authorization server's own. */
export interface KeyStore {
  /** Every key not yet retired at `now`, the active one first. */
  listSigningKeys(now: number): Promise<StoredSigningKey[]>;
  /**
   * Stores `candidate` as the active key unless an active key exists already (another instance may
   * have won the race); resolves with whichever key is active.
   */
  ensureSigningKey(candidate: StoredSigningKey): Promise<StoredSigningKey>;
  /**
   * Makes `candidate` the active key if the active key is still `expectedActiveKid` (so two instances
   * rotating at once rotate once); the previous key stays published until `previousRetireAt`.
   * Resolves with the active key afterwards and whether this call rotated.
   */
  rotateSigningKey(
    candidate: StoredSigningKey,
    expectedActiveKid: string | undefined,
    previousRetireAt: number,
  ): Promise<{ active: StoredSigningKey; rotated: boolean }>;
  /*
   * Keys at rest (issue 10). A store implements these three rules as well as the two methods below:
   * - `rotateSigningKey` sets the previous key's `privateKeyPem` to null (it never signs again; only its
   *   public half stays, until `retireAt`), and deletes keys whose `retireAt` <= `candidate.createdAt`.
   * - `privateKeyPem` is an opaque string to the store (maybe sealed, see key-encryption.ts), nullable.
   * - `listSigningKeys` keeps returning only keys with `retireAt` null or > `now`.
   */
  /*
   * Keys published ahead of use (issue 15, schema version 3 in SQLite). A key's life is
   * next (published, not signing) -> active (signing) -> retiring (published until `retireAt`, private
   * half deleted) -> gone. A next key is stored with `active` false, `retireAt` null and `activateAt`
   * set; at most one exists. A store implements these rules as well as the two methods below:
   * - `listSigningKeys` returns the next key too (it is published), with its `activateAt`.
   * - `deleteSigningKey` deletes a next key like any key that is not active.
   * - A `rotateSigningKey` leaves a next key as it is.
   */
  /**
   * Stores `candidate` (whose `activateAt` is set) as the next key, if the active key is still
   * `expectedActiveKid` and no next key exists (compare-and-set: of several instances publishing at
   * once, one publishes and the others get its key). Resolves with the next key stored afterwards
   * (undefined when the active key changed and there is none) and whether this call published it.
   */
  publishNextSigningKey(
    candidate: StoredSigningKey & { activateAt: number },
    expectedActiveKid: string | undefined,
  ): Promise<{ next: StoredSigningKey | undefined; published: boolean }>;
  /**
   * Makes the next key `nextKid` active, if it is still the next key and the active key is still
   * `expectedActiveKid` (compare-and-set: of several instances promoting at once, one does). In one
   * transaction, as `rotateSigningKey` does: the previous active key keeps only its public half and is
   * published until `previousRetireAt`; keys with `retireAt` <= `now` are deleted; the promoted key's
   * `activateAt` becomes min(`activateAt`, `now`) (when it started signing). Resolves with the active
   * key afterwards and whether this call promoted.
   */
  promoteNextSigningKey(
    nextKid: string,
    expectedActiveKid: string | undefined,
    previousRetireAt: number,
    now: number,
  ): Promise<{ active: StoredSigningKey | undefined; rotated: boolean }>;
  /**
   * Deletes a key that is not the active one (`key retire`): it stops verifying at once in every
   * process (they reload on the change). Resolves false for an unknown or the active kid.
   */
  deleteSigningKey(kid: string): Promise<boolean>;
  /**
   * Replaces stored private keys, each only while it still holds `from` (compare-and-set, so two
   * processes sealing at once cannot clobber each other). Used to encrypt clear keys once a key secret
   * is configured, and to reseal under a new first secret. Resolves how many rows changed.
   */
  resealSigningKeys(changes: readonly { kid: string; from: string; to: string }[]): Promise<number>;
}

/** A revoked token id, kept until no verifier would accept the token anyway. */
export interface RevokedToken {
  jti: string;
  clientId: string;
  /**
   * Epoch ms until which the revocation must be kept: the token's `exp` plus the clock tolerance of
   * the verifiers (they accept the token until then). The store purges the entry after it.
   */
  expiresAt: number;
}

/** What the revocation check needs to know of every client, without secrets. */
export interface ClientStatus {
  id: string;
  enabled: boolean;
  /** Tokens issued before this instant (epoch ms) are void. */
  tokensNotBefore: number;
}

/** An opaque reference token as stored: only the SHA-256 of the token, with its claims. */
export interface StoredReferenceToken {
  tokenHash: string;
  jti: string;
  clientId: string;
  claims: AccessTokenClaims;
  /** Epoch ms. */
  expiresAt: number;
}

/** Token state that outlives issuance: revocations and reference tokens. Expired rows are purged on write. */
export interface TokenStore {
  /** Records a revocation; resolves false when the jti was already revoked. Purges expired revocations. */
  revokeToken(token: RevokedToken, now: number): Promise<boolean>;
  /** Revocations whose token has not expired at `now`. */
  listRevokedTokens(now: number): Promise<RevokedToken[]>;
  listClientStatuses(): Promise<ClientStatus[]>;
  /** Stores a reference token. Purges expired ones. */
  saveReferenceToken(token: StoredReferenceToken, now: number): Promise<void>;
  /** The unexpired reference token with this hash. */
  findReferenceToken(tokenHash: string, now: number): Promise<StoredReferenceToken | undefined>;
  /** A client's unexpired reference tokens (never the token, only its hash and claims), soonest to expire first, at most `limit`. */
  listReferenceTokens(clientId: string, now: number, limit: number): Promise<StoredReferenceToken[]>;
  /** The unexpired reference token with this jti (an operator revoking by jti learns its client and expiry). */
  findReferenceTokenByJti(jti: string, now: number): Promise<StoredReferenceToken | undefined>;
}

/**
 * What changed, as precisely as the store can tell, so a cache applies a delta instead of reloading:
 * a revocation adds one jti, a client change refreshes one client. `all` means "reload everything"
 * (a store that cannot say more, or a listener that reconnected and may have missed changes).
 * `revision` is the revision counter after the change, when the store knows it.
 */
export type StoreChange = (
  | { kind: 'all' }
  | { kind: 'client'; id: string }
  | { kind: 'group'; name: string }
  | { kind: 'keys' }
  | { kind: 'revoked'; jti: string; expiresAt: number }
) & { revision?: number };

/**
 * One-time claims that hold across every instance sharing the store: the `jti` of a client assertion
 * (RFC 7523 §3 item 7) or of a DPoP proof (RFC 9449 §11.1) is accepted once.
 */
export interface ReplayStore {
  /**
   * Claims `id` in `namespace` until `expiresAt` (epoch ms). Resolves true for the first claim, false
   * while an unexpired claim exists. One statement (insert or take over an expired row), never
   * read-then-write, so two instances racing on the same id cannot both win. Purges expired claims
   * in bounded batches.
   */
  claimOnce(namespace: string, id: string, expiresAt: number, now: number): Promise<boolean>;
}

/** How instances learn that something changed, whichever process made the change. */
export interface ChangeFeed {
  /** A number that grows with every change that matters to caches (clients, secrets, groups, keys, revocations). */
  revision(): Promise<number>;
  /**
   * Registers a listener called after each change made through this store object (and, for a store
   * that pushes changes, after each change any instance made); returns an unsubscribe function.
   */
  onChange(listener: (change: StoreChange) => void): () => void;
  /**
   * How often (ms) a watcher should still poll {@link revision}; a store that pushes changes asks for
   * a slow fallback. When absent the watcher's own interval (`syncInterval`) applies.
   */
  readonly pollInterval?: number;
  /**
   * For a store that logs its changes (SQLite's change log): announces through {@link onChange},
   * as deltas, every change made since its last announcement by any process, or `{ kind: 'all' }`
   * when the log no longer reaches back that far. A watcher's poll calls it instead of comparing
   * {@link revision}s, so a change made elsewhere costs O(what changed), not a reload.
   */
  catchUp?(): Promise<void>;
  /**
   * Synchronously, without waiting on the network: brings this feed's announcements up to date when
   * it can tell at once what other processes committed, and says whether every change committed so
   * far by any process has now been announced through {@link onChange}. True lets a cache kept from
   * the announcements answer without a read; false (or a store without this method): read the store.
   * SQLite: `PRAGMA data_version` tells whether another connection committed, and the change log is
   * read at once when one did. PostgreSQL: true while the LISTEN connection is up, so a change other
   * instances commit arrives as their notification does (milliseconds), or by the poll when a
   * notification is lost.
   */
  syncNow?(): boolean;
}

/** Settings every process on one database must share. */
export interface SettingsStore {
  /**
   * The bcrypt cost of this database's secrets: stores `initial` if none is stored yet (one
   * statement, so two processes opening a new database agree), then resolves the stored cost. The
   * server and the CLI both hash new secrets, and the dummy that hides unknown client ids, at this
   * cost, so an unknown id and a wrong secret take the same time (issue 10.12).
   */
  bcryptCost(initial: number): Promise<number>;
}

/** Everything the authorization server needs from storage. */
export interface Store extends ClientStore, GroupStore, KeyStore, TokenStore, ReplayStore, ChangeFeed, SettingsStore {
  /**
   * Resolves when the database answers a trivial query (readiness probes call it every few seconds:
   * it must be cheap); rejects with a {@link StoreError} otherwise.
   */
  ping(): Promise<void>;
  /** Releases what the store opened itself (a database it was handed stays open). */
  close(): Promise<void>;
  /**
   * Resolves once the store can serve (a networked store connects and migrates lazily); rejects with
   * the reason it cannot start, e.g. a `schema` {@link StoreError} for a database newer than this library.
   */
  ready?(): Promise<void>;
}
