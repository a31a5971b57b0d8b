// Group administration used by the CLI and the admin API: validated group changes and memberships, each with its audit event.
import { StoreError, type ClientStore, type GroupStore } from '../../store/types';
import type { Client } from '../model/client';
import type { AuditRecorder } from '../model/events';
import { isGroupName, type Group } from '../model/group';
import { RegistryError, validAudiences, validScopes } from './registry';

/**
 * The condition of one change (the admin API's If-Match, RFC 9110 §13.1.1): apply only while the
 * group (for a group change) or the client (for a membership change) is at this version, checked again
 * in the store's transaction; else `precondition_failed` and nothing changes.
 */
export interface VersionCondition {
  expectedVersion?: number;
}

/** A stale version found by the store, as the registry's error. */
async function conditional<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof StoreError && err.code === 'stale') throw new RegistryError('precondition_failed', err.message);
    throw err;
  }
}

function staleGroup(version: number): RegistryError {
  return new RegistryError('precondition_failed', `the group has changed: it is at version ${version}`);
}

function staleClient(version: number): RegistryError {
  return new RegistryError('precondition_failed', `the client has changed: it is at version ${version}`);
}

/** What an administrator gives to create a group. */
export interface GroupInput {
  name: string;
  /** Space-delimited string or list of RFC 6749 §3.3 scope tokens. */
  scopes?: string | readonly string[];
  audiences?: readonly string[];
}

/** What an administrator may change on a group; omitted fields stay as they are. */
export interface GroupUpdate {
  scopes?: string | readonly string[];
  audiences?: readonly string[];
}

function validGroupName(name: unknown, field = 'name'): string {
  if (!isGroupName(name)) {
    throw new RegistryError(
      'invalid',
      'a group name is 1 to 64 letters, digits, ".", "_", ":" or "-", starting with a letter or digit',
      field,
    );
  }
  return name;
}

const noClient = (id: string) => new RegistryError('not_found', `no client with id ${JSON.stringify(id)}`, 'client_id');
const noGroup = (name: string, field = 'group') => new RegistryError('not_found', `no group named ${JSON.stringify(name)}`, field);

/**
 * Administrative operations on groups and memberships. Every change also moves the version of the
 * clients it affects (the store sees to it), so a member's next token request sees the new scopes.
 *
 * @example
 * await groups.create({ name: 'billing', scopes: 'invoices:read invoices:write' });
 * await groups.addClient(clientId, 'billing');
 */
export class GroupRegistry {
  constructor(
    private readonly store: ClientStore & GroupStore,
    private readonly options: { clock: () => number },
    private readonly events?: AuditRecorder,
  ) {}

  /** The same registry recording its audit events to `events` (e.g. `server.events.as(actor)`). */
  recordingTo(events: AuditRecorder): GroupRegistry {
    return new GroupRegistry(this.store, this.options, events);
  }

  async create(input: GroupInput): Promise<Group> {
    const name = validGroupName(input.name);
    const scopes = validScopes(input.scopes ?? []);
    const audiences = validAudiences(input.audiences ?? []);
    let group: Group;
    try {
      group = await this.store.createGroup({ name, scopes, audiences }, this.options.clock());
    } catch (err) {
      if (err instanceof StoreError && err.code === 'conflict') {
        throw new RegistryError('conflict', `a group named ${JSON.stringify(name)} exists already`, 'name');
      }
      throw err;
    }
    this.events?.record('group.created', { group: name, scopes, audiences });
    return group;
  }

  async get(name: string): Promise<Group> {
    const group = isGroupName(name) ? await this.store.getGroup(name) : undefined;
    if (!group) throw noGroup(name, 'name');
    return group;
  }

  list(): Promise<Group[]> {
    return this.store.listGroups();
  }

  async update(name: string, update: GroupUpdate, condition: VersionCondition = {}): Promise<Group> {
    const changes = {
      ...(update.scopes !== undefined ? { scopes: validScopes(update.scopes) } : {}),
      ...(update.audiences !== undefined ? { audiences: validAudiences(update.audiences) } : {}),
    };
    if (Object.keys(changes).length === 0) throw new RegistryError('invalid', 'nothing to change: give scopes or audiences');
    const before = isGroupName(name) ? await this.store.getGroup(name) : undefined;
    if (before && condition.expectedVersion !== undefined && before.version !== condition.expectedVersion) throw staleGroup(before.version);
    const group = before
      ? await conditional(() => this.store.updateGroup(name, { ...changes, ...versionOf(condition) }, this.options.clock()))
      : undefined;
    if (!before || !group) throw noGroup(name, 'name');
    const fields = Object.keys(changes) as (keyof typeof changes)[];
    this.events?.record('group.updated', {
      group: name,
      changes: fields,
      members: group.members,
      before: Object.fromEntries(fields.map((f) => [f, before[f]])),
      after: Object.fromEntries(fields.map((f) => [f, group[f]])),
    });
    return group;
  }

  setScopes(name: string, scopes: string | readonly string[]): Promise<Group> {
    return this.update(name, { scopes });
  }

  /** Refused with a `conflict` while the group has members, unless `force` (which removes them from it). */
  async delete(name: string, options: { force?: boolean } & VersionCondition = {}): Promise<void> {
    const group = isGroupName(name) ? await this.store.getGroup(name) : undefined;
    if (!group) throw noGroup(name, 'name');
    if (options.expectedVersion !== undefined && group.version !== options.expectedVersion) throw staleGroup(group.version);
    let deleted: boolean;
    try {
      deleted = await conditional(() => this.store.deleteGroup(name, { force: options.force ?? false, ...versionOf(options) }));
    } catch (err) {
      if (err instanceof StoreError && err.code === 'conflict') {
        throw new RegistryError('conflict', `${err.message}; remove them first or force the delete`, 'name');
      }
      throw err;
    }
    if (!deleted) throw noGroup(name, 'name');
    this.events?.record('group.deleted', { group: name, members: group.members });
  }

  /** Adds the client to the group; adding it twice changes nothing. */
  async addClient(clientId: string, groupName: string, condition: VersionCondition = {}): Promise<Client> {
    const name = validGroupName(groupName, 'group');
    const before = await this.store.getClient(clientId);
    if (!before) throw noClient(clientId);
    if (condition.expectedVersion !== undefined && before.version !== condition.expectedVersion) throw staleClient(before.version);
    const client = await conditional(() => this.store.addClientToGroup(clientId, name, this.options.clock(), versionOf(condition)));
    if (!client) throw (await this.store.getClient(clientId)) ? noGroup(name) : noClient(clientId);
    if (!before.groups.includes(name)) this.events?.record('client.group_added', { clientId, group: name });
    return client;
  }

  /** Removes the client from the group; not_found when it is not a member. */
  async removeClient(clientId: string, groupName: string, condition: VersionCondition = {}): Promise<Client> {
    const before = await this.store.getClient(clientId);
    if (!before) throw noClient(clientId);
    if (condition.expectedVersion !== undefined && before.version !== condition.expectedVersion) throw staleClient(before.version);
    if (!before.groups.includes(groupName)) {
      throw new RegistryError('not_found', `client ${JSON.stringify(clientId)} is not in group ${JSON.stringify(groupName)}`, 'group');
    }
    const client = await conditional(() => this.store.removeClientFromGroup(clientId, groupName, this.options.clock(), versionOf(condition)));
    if (!client) throw noClient(clientId);
    this.events?.record('client.group_removed', { clientId, group: groupName });
    return client;
  }

  /** Makes `groups` the client's exact set of groups; every named group must exist (errors name `groups`). */
  async setClientGroups(clientId: string, groups: readonly string[]): Promise<Client> {
    if (!Array.isArray(groups)) throw new RegistryError('invalid', 'groups must be a list of group names', 'groups');
    const names = [...new Set(groups.map((g) => validGroupName(g, 'groups')))];
    const before = await this.store.getClient(clientId);
    if (!before) throw noClient(clientId);
    const client = await this.store.setClientGroups(clientId, names, this.options.clock());
    if (!client) {
      if (!(await this.store.getClient(clientId))) throw noClient(clientId);
      const missing = [];
      for (const name of names) if (!(await this.store.getGroup(name))) missing.push(name);
      if (missing.length === 0) throw new RegistryError('conflict', 'the groups changed meanwhile; try again', 'groups');
      throw new RegistryError('invalid', `no group named ${missing.map((m) => JSON.stringify(m)).join(', ')}`, 'groups');
    }
    for (const group of names) if (!before.groups.includes(group)) this.events?.record('client.group_added', { clientId, group });
    for (const group of before.groups) if (!names.includes(group)) this.events?.record('client.group_removed', { clientId, group });
    return client;
  }
}

function versionOf(condition: VersionCondition): { expectedVersion?: number } {
  return condition.expectedVersion === undefined ? {} : { expectedVersion: condition.expectedVersion };
}
