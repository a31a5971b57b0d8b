// Client administration used by the CLI and the admin API: validated create / change / rotate / delete, secrets shown once.
import type { ClientChanges, ClientStore } from '../../store/types';
import { StoreError } from '../../store/types';
import { CLIENT_CREDENTIALS, type Client, type TokenFormat } from '../model/client';
import type { AuditEmitter } from '../model/events';
import { normalizeScopes } from '../model/scope';
import { generateClientId, generateClientSecret, hashSecret } from '../client-auth/secrets';

export type RegistryErrorCode = 'invalid' | 'not_found' | 'conflict';

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
  /** Groups the client joins, in the same transaction as its creation. */
  groups?: readonly string[];
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
 * Validates an administrator's audience list: each a non-empty run of visible ASCII (an RFC 8707
 * resource URI or a plain name such as `orders`); lists are stored space-delimited, so no spaces.
 */
export function validAudiences(audiences: unknown): string[] {
  if (!Array.isArray(audiences) || audiences.some((a) => typeof a !== 'string' || !/^[\x21-\x7E]{1,2000}$/.test(a))) {
    throw new RegistryError('invalid', 'audiences must be a list of strings of visible ASCII characters without spaces', 'audiences');
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

function validTokenFormat(value: unknown): TokenFormat {
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
    private readonly options: { bcryptCost: number | (() => Promise<number>); clock: () => number },
    private readonly events?: AuditEmitter,
  ) {}

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
    return { client, clientSecret };
  }

  /**
   * Applies several changes to a client in one store transaction (all or nothing) and records one
   * audit event: `client.enabled` / `client.disabled` when that is the only change, else
   * `client.updated` listing every changed field (with `enabled` when it changed).
   *
   * @example
   * await registry.update(id, { name: 'billing', scopes: 'read write', enabled: false });
   */
  async update(id: string, update: ClientUpdate): Promise<Client> {
    const changes: ClientChanges = {};
    if (update.name !== undefined) changes.name = validName(update.name);
    if (update.scopes !== undefined) changes.scopes = validScopes(update.scopes);
    if (update.audiences !== undefined) changes.audiences = validAudiences([...update.audiences]);
    if (update.groups !== undefined) changes.groups = validGroupList(update.groups);
    const before = await this.get(id);
    if (update.enabled !== undefined && update.enabled !== before.enabled) {
      changes.enabled = update.enabled;
      if (!update.enabled) changes.revokeTokensIssuedBefore = this.options.clock();
    }
    const fields = (['name', 'scopes', 'audiences', 'groups', 'enabled'] as const).filter((f) => changes[f] !== undefined);
    if (fields.length === 0) return before;
    const client = await this.apply(id, changes);
    if (fields.length === 1 && changes.enabled !== undefined) {
      this.events?.record(changes.enabled ? 'client.enabled' : 'client.disabled', { clientId: id });
    } else {
      this.events?.record('client.updated', {
        clientId: id,
        changes: [...fields],
        ...(changes.enabled === undefined ? {} : { enabled: changes.enabled }),
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

  async setScopes(id: string, scopes: string | readonly string[]): Promise<Client> {
    const client = await this.apply(id, { scopes: validScopes(scopes) });
    this.events?.record('client.updated', { clientId: id, changes: ['scopes'] });
    return client;
  }

  /** Replaces the audiences (RFC 8707 resources) the client may ask tokens for. */
  async setAudiences(id: string, audiences: readonly string[]): Promise<Client> {
    const client = await this.apply(id, { audiences: validAudiences([...audiences]) });
    this.events?.record('client.updated', { clientId: id, changes: ['audiences'] });
    return client;
  }

  async rename(id: string, name: string): Promise<Client> {
    const client = await this.apply(id, { name: validName(name) });
    this.events?.record('client.updated', { clientId: id, changes: ['name'] });
    return client;
  }

  /**
   * Enables or disables a client. Disabling voids every token issued before it for good (an operator
   * disables a compromised client): enabling it again lets it fetch new tokens, never revives old ones.
   */
  async setEnabled(id: string, enabled: boolean): Promise<Client> {
    const client = await this.apply(id, enabled ? { enabled } : { enabled, revokeTokensIssuedBefore: this.options.clock() });
    this.events?.record(enabled ? 'client.enabled' : 'client.disabled', { clientId: id });
    return client;
  }

  /**
   * Issues a new secret. The previous one stays valid for `graceSeconds` (0: cut at once). With
   * `revokeTokens`, tokens issued before now stop being valid; by default they do exactly when the old
   * secret is cut at once (a rotation after a leak), and live on when a grace period rolls a fleet
   * over without downtime.
   */
  async rotateSecret(id: string, options: { graceSeconds?: number; revokeTokens?: boolean } = {}): Promise<ClientWithSecret> {
    const grace = options.graceSeconds ?? 0;
    const revokeTokens = options.revokeTokens ?? grace === 0;
    if (!Number.isFinite(grace) || grace < 0) throw new RegistryError('invalid', 'grace must be a non-negative duration', 'grace');
    const clientSecret = generateClientSecret();
    const hash = await hashSecret(clientSecret, await this.cost());
    const now = this.options.clock();
    const client = await this.store.rotateSecret(
      id,
      {
        hash,
        previousValidUntil: grace > 0 ? now + grace * 1000 : null,
        ...(revokeTokens ? { revokeTokensIssuedBefore: now } : {}),
      },
      now,
    );
    if (!client) throw new RegistryError('not_found', `no client with id ${JSON.stringify(id)}`, 'client_id');
    this.events?.record('client.secret_rotated', {
      clientId: id,
      previousValidUntil: grace > 0 ? now + grace * 1000 : null,
      tokensRevoked: revokeTokens,
    });
    return { client, clientSecret };
  }

  async delete(id: string): Promise<void> {
    if (!(await this.store.deleteClient(id))) {
      throw new RegistryError('not_found', `no client with id ${JSON.stringify(id)}`, 'client_id');
    }
    this.events?.record('client.deleted', { clientId: id });
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
      // A named group that does not exist (or was deleted meanwhile): nothing changed.
      if (err instanceof StoreError && err.code === 'not_found') throw new RegistryError('invalid', err.message, 'groups');
      throw err;
    }
  }
}
