// Client administration used by the CLI and the admin API: validated create / change / rotate / delete, secrets shown once.
import type { ClientChanges, ClientKeys, ClientQuery, ClientStore } from '../../store/types';
import { validateClientJwks, validateJwksUri } from '../client-auth/client-keys';
import { StoreError } from '../../store/types';
import { CLIENT_CREDENTIALS, type Client, type TokenFormat } from '../model/client';
import type { AuditRecorder } from '../model/events';
import { normalizeScopes } from '../model/scope';
import { resourceIndicatorProblem } from '../model/resource';
import { generateClientId, generateClientSecret, hashSecret } from '../client-auth/secrets';

/** `precondition_failed`: an If-Match / expected version no longer holds (RFC 9110 §13.1.1); nothing changed. */
export type RegistryErrorCode = 'invalid' | 'not_found' | 'conflict' | 'precondition_failed';

/** An administrative request that cannot be carried out; `field` names the offending input. */
export class RegistryError extends Error {
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** What an administrator gives to register a client. */
export interface ClientInput {
  name: string;
  /** Space-delimited string or list of RFC 6749 §3.3 scope tokens. */
  scopes?: string | readonly string[];
  audiences?: readonly string[];
  tokenFormat?: TokenFormat;
  /** Free text for people (what it is, who owns it). */
  description?: string;
  /** Lifetime of its access tokens in seconds; the instance's accessTokenLifetime caps it. */
  tokenLifetime?: number | null;
  /** Groups the client joins, in the same transaction as its creation. */
  groups?: readonly string[];
  /** RFC 9449 §5.2 `dpop_bound_access_tokens`: refuse this client's token requests without a DPoP proof. */
  requireDpop?: boolean;
}

/** Public keys a client proves itself with (`private_key_jwt`, RFC 7523 §2.2): an inline JWK Set or its URL. */
export type ClientKeyInput = { jwks: unknown } | { jwksUri: string };

/** Validates a client's keys; errors name the `jwks` or `jwks_uri` field. */
export function validKeys(input: unknown): ClientKeys {
  if (typeof input !== 'object' || input === null) throw new RegistryError('invalid', 'keys must be { jwks } or { jwksUri }', 'jwks');
  const given = input as { jwks?: unknown; jwksUri?: unknown };
  if ((given.jwks === undefined) === (given.jwksUri === undefined)) {
    throw new RegistryError('invalid', 'give either jwks or jwks_uri, not both (RFC 7591 section 2)', 'jwks');
  }
  try {
    if (given.jwks !== undefined) return { jwks: validateClientJwks(given.jwks) };
    if (typeof given.jwksUri !== 'string') throw new TypeError('jwks_uri must be a URL string');
    return { jwksUri: validateJwksUri(given.jwksUri) };
  } catch (err) {
    throw new RegistryError('invalid', (err as Error).message, given.jwks !== undefined ? 'jwks' : 'jwks_uri');
  }
}

function validFlag(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new RegistryError('invalid', `${field} must be true or false`, field);
  return value;
}

/**
 * Several changes to one client, applied together in one transaction with one audit event: all of
 * it or nothing. Omitted fields stay as they are.
 */
export interface ClientUpdate {
  name?: string;
  scopes?: string | readonly string[];
  audiences?: readonly string[];
  /** The client's exact set of groups afterwards. */
  groups?: readonly string[];
  /** Disabling voids the client's earlier tokens for good (see {@link ClientRegistry.setEnabled}). */
  enabled?: boolean;
  tokenFormat?: TokenFormat;
  /** Replaces the client's public keys for `private_key_jwt`; `null` removes them. */
  keys?: ClientKeyInput | null;
  /** RFC 9449 §5.2 `dpop_bound_access_tokens`. */
  requireDpop?: boolean;
  description?: string;
  /** Seconds; `null` goes back to the instance's accessTokenLifetime. */
  tokenLifetime?: number | null;
}

/** Conditions and overrides of one change (the admin API's If-Match and `force`, the CLI's `--force`). */
export interface ChangeOptions {
  /** Apply only while the client is at this version (else `precondition_failed`; RFC 9110 §13.1.1). */
  expectedVersion?: number;
  /** Allow deleting or disabling the last enabled client holding the admin scope. */
  force?: boolean;
}

/** The admin scope whose last holder is protected from deletion and disabling unless forced. */
export const DEFAULT_ADMIN_SCOPE = 'oauth:admin';
/** Page size of a list without `limit`, and the most a page may hold. */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
/** The longest per-client token lifetime accepted: the longest accessTokenLifetime an instance may have. */
export const MAX_TOKEN_LIFETIME = 86_400;

/** A list request: filters, a page size and the opaque cursor of the previous page. */
export interface ClientListQuery {
  limit?: number;
  cursor?: string;
  name?: string;
  group?: string;
  enabled?: boolean;
  scope?: string;
}

/** One page; `nextCursor` is present when more clients may follow. */
export interface ClientListPage {
  clients: Client[];
  nextCursor?: string;
}

/**
 * Cursors are opaque to callers (a base64url JSON object), so the keyset behind them may change
 * without breaking anyone; a cursor that does not decode is `invalid` on the `cursor` field.
 */
function encodeCursor(after: string): string {
  return Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    const after = (value as { after?: unknown } | null)?.after;
    if (typeof after === 'string' && after !== '' && cursor.length <= 1000) return after;
  } catch {
    // reported below
  }
  throw new RegistryError('invalid', 'cursor is not one this API returned', 'cursor');
}

/** Validates a description: up to 1000 characters, no control characters but tab and newline. */
export function validDescription(value: unknown): string {
  if (typeof value !== 'string' || value.length > 1000 || /[\x00-\x08\x0B-\x1F\x7F]/.test(value)) {
    throw new RegistryError('invalid', 'description must be text of at most 1000 characters', 'description');
  }
  return value;
}

/** Validates a per-client token lifetime: whole seconds from 1 to {@link MAX_TOKEN_LIFETIME}, or `null` (the instance's). */
export function validTokenLifetime(value: unknown, max = MAX_TOKEN_LIFETIME): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new RegistryError('invalid', `token_lifetime must be an integer number of seconds from 1 to ${max}, or null`, 'token_lifetime');
  }
  return value;
}

/** A client together with its new secret: the only moment the secret exists outside the caller. */
export interface ClientWithSecret {
  client: Client;
  clientSecret: string;
}

/** Validates a client name; errors name the `name` field. */
export function validName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200 || /[\x00-\x1F\x7F]/.test(name)) {
    throw new RegistryError('invalid', 'name must be 1 to 200 printable characters', 'name');
  }
  return name.trim();
}

/** Validates an administrator's scope list (RFC 6749 §3.3 scope-tokens); errors name the `scope` field. */
export function validScopes(scopes: unknown): string[] {
  if (typeof scopes !== 'string' && !Array.isArray(scopes)) {
    throw new RegistryError('invalid', 'scope must be a space-delimited string or a list', 'scope');
  }
  try {
    return normalizeScopes(scopes as string | string[], 'scope');
  } catch (err) {
    throw new RegistryError('invalid', (err as Error).message, 'scope');
  }
}

/**
 * Validates an administrator's audience list by the rule the token endpoint applies to `resource`
 * (RFC 8707 §2: an absolute URI without a fragment), so no audience is stored that could never be
 * requested; errors name the `audiences` field. Lists are stored space-delimited: the rule allows no space.
 */
export function validAudiences(audiences: unknown): string[] {
  if (!Array.isArray(audiences)) throw new RegistryError('invalid', 'audiences must be a list of absolute URIs', 'audiences');
  for (const audience of audiences as unknown[]) {
    const problem = resourceIndicatorProblem(audience);
    if (problem !== undefined) {
      const shown = typeof audience === 'string' ? JSON.stringify(audience.slice(0, 100)) : 'each audience';
      throw new RegistryError('invalid', `audience ${shown} ${problem}`, 'audiences');
    }
  }
  return [...new Set(audiences as string[])];
}

/** A list of group names (existence is checked by the store, in the same transaction as the change). */
function validGroupList(groups: unknown): string[] {
  if (!Array.isArray(groups) || groups.some((g) => typeof g !== 'string' || g === '')) {
    throw new RegistryError('invalid', 'groups must be a list of group names', 'groups');
  }
  return [...new Set(groups as string[])];
}

/** Validates a token format (`jwt` or `reference`); errors name the `token_format` field. */
export function validTokenFormat(value: unknown): TokenFormat {
  if (value !== 'jwt' && value !== 'reference') {
    throw new RegistryError('invalid', 'token format must be "jwt" or "reference"', 'token_format');
  }
  return value;
}

/**
 * Administrative operations on the client registry. Secrets are generated here, hashed with bcrypt
 * before they reach the store, and returned exactly once.
 */
export class ClientRegistry {
  constructor(
    private readonly store: ClientStore,
    private readonly options: {
      bcryptCost: number | (() => Promise<number>);
      clock: () => number;
      /** The instance's accessTokenLifetime: a client's own lifetime may not exceed it. */
      maxTokenLifetime?: number;
    },
    private readonly events?: AuditRecorder,
  ) {}

  /**
   * The same registry recording its audit events to `events`: e.g. `server.events.as(actor)`, so
   * every event of one admin request or CLI run names who made it.
   */
  recordingTo(events: AuditRecorder): ClientRegistry {
    return new ClientRegistry(this.store, this.options, events);
  }

  /** The bcrypt cost of new secrets: a number, or (server and CLI) the database's stored cost. */
  private cost(): Promise<number> {
    const { bcryptCost } = this.options;
    return typeof bcryptCost === 'number' ? Promise.resolve(bcryptCost) : bcryptCost();
  }

  async create(input: ClientInput): Promise<ClientWithSecret> {
    const name = validName(input.name);
    const scopes = validScopes(input.scopes ?? []);
    const tokenFormat = validTokenFormat(input.tokenFormat ?? 'jwt');
    const audiences = validAudiences(input.audiences ?? []);
    const groups = input.groups === undefined ? [] : validGroupList(input.groups);
    const requireDpop = validFlag(input.requireDpop ?? false, 'dpop_bound_access_tokens');
    const description = input.description === undefined ? '' : validDescription(input.description);
    const tokenLifetime = input.tokenLifetime == null ? null : validTokenLifetime(input.tokenLifetime, this.maxTokenLifetime);
    const clientSecret = generateClientSecret();
    const secretHash = await hashSecret(clientSecret, await this.cost());
    // One transaction with the memberships: a failure leaves no client whose secret nobody saw.
    const client = await this.storeCall(() =>
      this.store.createClient(
        {
          id: generateClientId(),
          name,
          scopes,
          audiences,
          grantTypes: [CLIENT_CREDENTIALS],
          tokenFormat,
          secretHash,
          description,
          tokenLifetime,
          ...(groups.length > 0 ? { groups } : {}),
          ...(requireDpop ? { requireDpop } : {}),
        },
        this.options.clock(),
      ),
    );
    this.events?.record('client.created', {
      clientId: client.id,
      name: client.name,
      scopes: client.scopes,
      ...(groups.length > 0 ? { groups: client.groups } : {}),
    });
    return { client, clientSecret };
  }

  /**
   * Registers a client that proves itself with a signed assertion (`private_key_jwt`, RFC 7523 §2.2)
   * instead of a secret: no secret is ever generated, so there is none to leak or rotate.
   *
   * @example
   * const client = await oauth.registry.createWithKeys({ name: 'billing', scopes: 'read' }, { jwksUri: 'https://billing.internal/jwks.json' });
   */
  async createWithKeys(input: ClientInput, keys: ClientKeyInput): Promise<Client> {
    const name = validName(input.name);
    const scopes = validScopes(input.scopes ?? []);
    const tokenFormat = validTokenFormat(input.tokenFormat ?? 'jwt');
    const audiences = validAudiences(input.audiences ?? []);
    const groups = input.groups === undefined ? [] : validGroupList(input.groups);
    const requireDpop = validFlag(input.requireDpop ?? false, 'dpop_bound_access_tokens');
    const validated = validKeys(keys);
    const client = await this.storeCall(() =>
      this.store.createClient(
        {
          id: generateClientId(),
          name,
          scopes,
          audiences,
          grantTypes: [CLIENT_CREDENTIALS],
          tokenFormat,
          secretHash: null,
          keys: validated,
          requireDpop,
          ...(groups.length > 0 ? { groups } : {}),
        },
        this.options.clock(),
      ),
    );
    this.events?.record('client.created', {
      clientId: client.id,
      name: client.name,
      scopes: client.scopes,
      ...(groups.length > 0 ? { groups: client.groups } : {}),
    });
    return client;
  }

  /** Replaces the client's public keys (`null` removes them: the client can then only use a secret, if it has one). */
  async setKeys(id: string, keys: ClientKeyInput | null): Promise<Client> {
    return this.update(id, { keys });
  }

  /** RFC 9449 §5.2: whether every token of the client must be DPoP-bound. */
  async setRequireDpop(id: string, requireDpop: boolean): Promise<Client> {
    return this.update(id, { requireDpop });
  }

  /**
   * Applies several changes to a client in one store transaction (all or nothing) and records one
   * audit event: `client.enabled` / `client.disabled` when that is the only change, else
   * `client.updated` listing every changed field (with `enabled` when it changed).
   *
   * @example
   * await registry.update(id, { name: 'billing', scopes: 'read write', enabled: false });
   */
  async update(id: string, update: ClientUpdate, options: ChangeOptions = {}): Promise<Client> {
    const changes: ClientChanges = {};
    if (update.name !== undefined) changes.name = validName(update.name);
    if (update.scopes !== undefined) changes.scopes = validScopes(update.scopes);
    if (update.audiences !== undefined) changes.audiences = validAudiences([...update.audiences]);
    if (update.groups !== undefined) changes.groups = validGroupList(update.groups);
    if (update.keys !== undefined) changes.keys = update.keys === null ? null : validKeys(update.keys);
    if (update.requireDpop !== undefined) changes.requireDpop = validFlag(update.requireDpop, 'dpop_bound_access_tokens');
    if (update.tokenFormat !== undefined) changes.tokenFormat = validTokenFormat(update.tokenFormat);
    if (update.description !== undefined) changes.description = validDescription(update.description);
    if (update.tokenLifetime !== undefined) changes.tokenLifetime = validTokenLifetime(update.tokenLifetime, this.maxTokenLifetime);
    const before = await this.get(id);
    if (options.expectedVersion !== undefined && before.version !== options.expectedVersion) throw stale(before.version);
    if (update.enabled !== undefined && update.enabled !== before.enabled) {
      if (!update.enabled) await this.assertNotLastAdmin(before, options);
      changes.enabled = update.enabled;
      if (!update.enabled) changes.revokeTokensIssuedBefore = this.options.clock();
    }
    const fields = CHANGEABLE.filter((f) => changes[f] !== undefined);
    if (fields.length === 0) return before;
    const client = await this.apply(id, { ...changes, ...versionCondition(options) });
    if (fields.length === 1 && changes.enabled !== undefined) {
      this.events?.record(changes.enabled ? 'client.enabled' : 'client.disabled', { clientId: id });
    } else {
      this.events?.record('client.updated', {
        clientId: id,
        changes: [...fields],
        ...(changes.enabled === undefined ? {} : { enabled: changes.enabled }),
        before: auditValues(before, fields),
        after: auditValues(client, fields),
      });
    }
    return client;
  }

  async get(id: string): Promise<Client> {
    const client = await this.store.getClient(id);
    if (!client) throw new RegistryError('not_found', `no client with id ${JSON.stringify(id)}`, 'client_id');
    return client;
  }

  list(): Promise<Client[]> {
    return this.store.listClients();
  }

  /**
   * One page of clients ordered by id, filtered; `nextCursor` (opaque) fetches the next. A keyset
   * query in the store: memory and time per page stay the same at any registry size.
   */
  async listPage(query: ClientListQuery = {}): Promise<ClientListPage> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new RegistryError('invalid', `limit must be an integer from 1 to ${MAX_PAGE_SIZE}`, 'limit');
    }
    const storeQuery: ClientQuery = { limit };
    if (query.cursor !== undefined) storeQuery.after = decodeCursor(query.cursor);
    if (query.name !== undefined) storeQuery.name = query.name;
    if (query.group !== undefined) storeQuery.group = query.group;
    if (query.enabled !== undefined) storeQuery.enabled = query.enabled;
    if (query.scope !== undefined) storeQuery.scope = query.scope;
    const page = await this.store.listClientsPage(storeQuery);
    return page.nextAfter === undefined ? { clients: page.clients } : { clients: page.clients, nextCursor: encodeCursor(page.nextAfter) };
  }

  /**
   * Every client matching `query`, page by page (for a listing that writes as it reads: memory stays
   * that of one page).
   *
   * @example
   * for await (const page of registry.pages({ enabled: true })) write(page);
   */
  async *pages(query: Omit<ClientListQuery, 'cursor' | 'limit'> & { pageSize?: number } = {}): AsyncGenerator<Client[]> {
    const { pageSize = 500, ...filters } = query;
    let cursor: string | undefined;
    do {
      const page: ClientListPage = await this.listPage({ ...filters, limit: pageSize, ...(cursor === undefined ? {} : { cursor }) });
      if (page.clients.length > 0) yield page.clients;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }

  async setScopes(id: string, scopes: string | readonly string[]): Promise<Client> {
    return this.update(id, { scopes: validScopes(scopes) });
  }

  /** Replaces the audiences (RFC 8707 resources) the client may ask tokens for. */
  async setAudiences(id: string, audiences: readonly string[]): Promise<Client> {
    return this.update(id, { audiences: validAudiences([...audiences]) });
  }

  async rename(id: string, name: string): Promise<Client> {
    return this.update(id, { name: validName(name) });
  }

  /**
   * Enables or disables a client. Disabling voids every token issued before it for good (an operator
   * disables a compromised client): enabling it again lets it fetch new tokens, never revives old ones.
   */
  async setEnabled(id: string, enabled: boolean, options: ChangeOptions = {}): Promise<Client> {
    if (!enabled || options.expectedVersion !== undefined) {
      const before = await this.get(id);
      if (options.expectedVersion !== undefined && before.version !== options.expectedVersion) throw stale(before.version);
      if (!enabled && before.enabled) await this.assertNotLastAdmin(before, options);
    }
    const changes: ClientChanges = enabled ? { enabled } : { enabled, revokeTokensIssuedBefore: this.options.clock() };
    const client = await this.apply(id, { ...changes, ...versionCondition(options) });
    this.events?.record(enabled ? 'client.enabled' : 'client.disabled', { clientId: id });
    return client;
  }

  /**
   * Issues a new secret. The previous one stays valid for `graceSeconds` (0: cut at once). With
   * `revokeTokens`, tokens issued before now stop being valid; by default they do exactly when the old
   * secret is cut at once (a rotation after a leak), and live on when a grace period rolls a fleet
   * over without downtime.
   */
  async rotateSecret(
    id: string,
    options: { graceSeconds?: number; revokeTokens?: boolean; expectedVersion?: number } = {},
  ): Promise<ClientWithSecret> {
    const grace = options.graceSeconds ?? 0;
    const revokeTokens = options.revokeTokens ?? grace === 0;
    if (!Number.isFinite(grace) || grace < 0) throw new RegistryError('invalid', 'grace must be a non-negative duration', 'grace');
    const clientSecret = generateClientSecret();
    const hash = await hashSecret(clientSecret, await this.cost());
    const now = this.options.clock();
    // With an expected version (If-Match) the store checks it in the rotation's transaction: a stale
    // version rejects and no secret changes.
    const client = await this.storeCall(() =>
      this.store.rotateSecret(
        id,
        {
          hash,
          previousValidUntil: grace > 0 ? now + grace * 1000 : null,
          ...(revokeTokens ? { revokeTokensIssuedBefore: now } : {}),
          ...versionCondition(options),
        },
        now,
      ),
    );
    if (!client) throw new RegistryError('not_found', `no client with id ${JSON.stringify(id)}`, 'client_id');
    this.events?.record('client.secret_rotated', {
      clientId: id,
      previousValidUntil: grace > 0 ? now + grace * 1000 : null,
      tokensRevoked: revokeTokens,
    });
    return { client, clientSecret };
  }

  /**
   * Deletes a client and its secrets. Refuses (`conflict`, field `force`) to delete the last enabled
   * client holding the admin scope unless `force`: nobody could use the admin API afterwards.
   */
  async delete(id: string, options: ChangeOptions = {}): Promise<void> {
    const before = await this.get(id);
    if (options.expectedVersion !== undefined && before.version !== options.expectedVersion) throw stale(before.version);
    await this.assertNotLastAdmin(before, options);
    const deleted = await this.storeCall(() => this.store.deleteClient(id, versionCondition(options)));
    if (!deleted) throw new RegistryError('not_found', `no client with id ${JSON.stringify(id)}`, 'client_id');
    this.events?.record('client.deleted', { clientId: id });
  }

  private get maxTokenLifetime(): number {
    return this.options.maxTokenLifetime ?? MAX_TOKEN_LIFETIME;
  }

  /**
   * Guard rail: the last enabled client holding the admin scope (directly or through a group) is
   * the only way into the admin API; losing it locks operators out. Checked before the change (a
   * concurrent change elsewhere could still race it: this prevents mistakes, it is no lock).
   */
  private async assertNotLastAdmin(client: Client, options: ChangeOptions): Promise<void> {
    if (options.force || !client.enabled || !client.effectiveScopes.includes(DEFAULT_ADMIN_SCOPE)) return;
    const { clients } = await this.store.listClientsPage({ scope: DEFAULT_ADMIN_SCOPE, enabled: true, limit: 2 });
    if (clients.some((c) => c.id !== client.id)) return;
    throw new RegistryError(
      'conflict',
      `client ${client.id} is the last enabled client holding ${DEFAULT_ADMIN_SCOPE}; without it nobody can use the admin API (force to do it anyway)`,
      'force',
    );
  }

  private async apply(id: string, changes: ClientChanges): Promise<Client> {
    const client = await this.storeCall(() => this.store.updateClient(id, changes, this.options.clock()));
    if (!client) throw new RegistryError('not_found', `no client with id ${JSON.stringify(id)}`, 'client_id');
    return client;
  }

  /** Store failures an administrator can act on, as registry errors. */
  private async storeCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof StoreError && err.code === 'conflict') throw new RegistryError('conflict', err.message);
      if (err instanceof StoreError && err.code === 'stale') throw new RegistryError('precondition_failed', err.message);
      // A named group that does not exist (or was deleted meanwhile): nothing changed.
      if (err instanceof StoreError && err.code === 'not_found') throw new RegistryError('invalid', err.message, 'groups');
      throw err;
    }
  }
}

/** The fields one update may change, in the order events list them. */
const CHANGEABLE = ['name', 'scopes', 'audiences', 'groups', 'enabled', 'tokenFormat', 'description', 'tokenLifetime', 'keys', 'requireDpop'] as const;

/** Old or new values of the changed fields, for the audit event: plain data, never a secret or a hash. */
function auditValues(client: Client, fields: readonly (typeof CHANGEABLE)[number][]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const field of fields) {
    // Public keys are not secrets, but an event names where they live rather than carrying the set.
    values[field] = field === 'keys' ? (client.jwksUri ?? (client.jwks ? 'inline jwks' : null)) : client[field];
  }
  return values;
}

function stale(version: number): RegistryError {
  return new RegistryError('precondition_failed', `the client has changed: it is at version ${version}`);
}

function versionCondition(options: ChangeOptions): { expectedVersion?: number } {
  return options.expectedVersion === undefined ? {} : { expectedVersion: options.expectedVersion };
}
