// The async storage interface every backend implements (SQLite now, a networked database later), and its error type.
export { StoreError, type StoreErrorCode } from '../core/model/store-error';
import type { Client, TokenFormat } from '../core/model/client';
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
  /** bcrypt hash of the secret, or null for a public client (which can never get a token). */
  secretHash: string | null;
  /**
   * Groups the client joins, in the same transaction as its creation (so a client is never left
   * without the groups it was created with). A group that does not exist rejects the whole creation
   * with a `not_found` {@link StoreError}.
   */
  groups?: readonly string[];
}

/** Fields of a client an administrator may change. Omitted fields stay as they are. */
export interface ClientChanges {
  name?: string;
  scopes?: string[];
  audiences?: string[];
  grantTypes?: string[];
  tokenFormat?: TokenFormat;
  enabled?: boolean;
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
}

/** A secret rotation: the new hash, and what happens to the secret it replaces. */
export interface SecretRotation {
  hash: string;
  /** Until when (epoch ms) the previous current secret stays valid; `null` or a past time cuts it at once. */
  previousValidUntil: number | null;
  /** When set, tokens issued before this instant (epoch ms) stop being valid. */
  revokeTokensIssuedBefore?: number;
}

/** Clients and their secrets. Every method resolves; none returns a secret, only hashes. */
export interface ClientStore {
  getClient(id: string): Promise<Client | undefined>;
  listClients(): Promise<Client[]>;
  /** Rejects with a `conflict` {@link StoreError} when the id exists. */
  createClient(client: NewClient, now: number): Promise<Client>;
  /** Applies every field of `changes` in one transaction. Resolves undefined for an unknown id. */
  updateClient(id: string, changes: ClientChanges, now: number): Promise<Client | undefined>;
  /** Makes `rotation.hash` the current secret; at most two secrets stay valid. Undefined for an unknown id. */
  rotateSecret(id: string, rotation: SecretRotation, now: number): Promise<Client | undefined>;
  /** Resolves false for an unknown id. */
  deleteClient(id: string): Promise<boolean>;
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
}

/**
 * Groups and memberships. Every change that alters what a client may get also increments that
 * client's `version`, so whatever is cached by client version is dropped with it.
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
   * has members, unless `force` (then the memberships go with it).
   */
  deleteGroup(name: string, options: { force: boolean }): Promise<boolean>;
  /** Adds a membership (a no-op when it exists). Undefined when the client or the group is unknown. */
  addClientToGroup(clientId: string, group: string, now: number): Promise<Client | undefined>;
  /** Removes a membership (a no-op when there is none). Undefined for an unknown client. */
  removeClientFromGroup(clientId: string, group: string, now: number): Promise<Client | undefined>;
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
}

/** How instances learn that something changed, whichever process made the change. */
export interface ChangeFeed {
  /** A number that grows with every change that matters to caches (clients, secrets, groups, keys, revocations). */
  revision(): Promise<number>;
  /** Registers a listener called after each change made through this store object; returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
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
export interface Store extends ClientStore, GroupStore, KeyStore, TokenStore, ChangeFeed, SettingsStore {
  /**
   * Resolves when the database answers a trivial query (readiness probes call it every few seconds:
   * it must be cheap); rejects with a {@link StoreError} otherwise.
   */
  ping(): Promise<void>;
  /** Releases what the store opened itself (a database it was handed stays open). */
  close(): Promise<void>;
}
