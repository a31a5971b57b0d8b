// Group administration: validation naming the field, not_found / conflict, and one audit event per change.
import { RegistryError, type AuditEvent } from '../../../lib/core';
import { buildApp, type TestApp } from '../../helpers';

let t: TestApp;
let events: AuditEvent[];
beforeEach(async () => {
  t = await buildApp();
  events = [];
  t.oauth.events.on('audit', (e: AuditEvent) => events.push(e));
});
afterEach(() => t.close());

async function rejection(promise: Promise<unknown>): Promise<RegistryError> {
  const err = await promise.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RegistryError);
  return err as RegistryError;
}

describe('group registry', () => {
  it('creates a group from a space-delimited scope string and records group.created', async () => {
    const group = await t.oauth.groups.create({ name: 'billing', scopes: 'invoices:read  invoices:write' });
    expect(group).toMatchObject({ name: 'billing', scopes: ['invoices:read', 'invoices:write'], audiences: [], members: [] });
    expect(events).toEqual([
      expect.objectContaining({ type: 'group.created', group: 'billing', scopes: ['invoices:read', 'invoices:write'], audiences: [] }),
    ]);
  });

  it('refuses a bad name, a scope outside the RFC 6749 §3.3 grammar and bad audiences, naming the field', async () => {
    expect(await rejection(t.oauth.groups.create({ name: 'has space' }))).toMatchObject({ code: 'invalid', field: 'name' });
    expect(await rejection(t.oauth.groups.create({ name: '-flag' }))).toMatchObject({ code: 'invalid', field: 'name' });
    expect(await rejection(t.oauth.groups.create({ name: 'g', scopes: 'ok "quoted"' }))).toMatchObject({ code: 'invalid', field: 'scope' });
    expect(await rejection(t.oauth.groups.create({ name: 'g', audiences: ['a b'] }))).toMatchObject({ code: 'invalid', field: 'audiences' });
    expect(await t.oauth.groups.list()).toEqual([]);
    expect(events).toEqual([]);
  });

  it('answers a duplicate name with conflict and an unknown one with not_found', async () => {
    await t.oauth.groups.create({ name: 'g' });
    expect(await rejection(t.oauth.groups.create({ name: 'g' }))).toMatchObject({ code: 'conflict', field: 'name' });
    expect(await rejection(t.oauth.groups.get('nope'))).toMatchObject({ code: 'not_found' });
    expect(await rejection(t.oauth.groups.setScopes('nope', 'a'))).toMatchObject({ code: 'not_found' });
    expect(await rejection(t.oauth.groups.delete('nope'))).toMatchObject({ code: 'not_found' });
  });

  it('refuses to delete a group with members unless forced, and records who lost it', async () => {
    const { id } = await t.createClient('read');
    await t.oauth.groups.create({ name: 'g', scopes: 'a' });
    await t.oauth.groups.addClient(id, 'g');
    expect(await rejection(t.oauth.groups.delete('g'))).toMatchObject({ code: 'conflict' });
    await t.oauth.groups.delete('g', { force: true });
    expect((await t.oauth.registry.get(id)).groups).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'group.deleted', group: 'g', members: [id] });
  });

  it('records membership changes once, and treats a repeated add as no change', async () => {
    const { id } = await t.createClient('read');
    await t.oauth.groups.create({ name: 'g1' });
    await t.oauth.groups.create({ name: 'g2' });
    events = [];
    await t.oauth.groups.addClient(id, 'g1');
    await t.oauth.groups.addClient(id, 'g1');
    await t.oauth.groups.setClientGroups(id, ['g2']);
    await t.oauth.groups.removeClient(id, 'g2');
    expect(events.map((e) => [e.type, (e as { group?: string }).group])).toEqual([
      ['client.group_added', 'g1'],
      ['client.group_added', 'g2'],
      ['client.group_removed', 'g1'],
      ['client.group_removed', 'g2'],
    ]);
  });

  it('tells an unknown client from an unknown group in membership changes', async () => {
    const { id } = await t.createClient('read');
    await t.oauth.groups.create({ name: 'g' });
    expect(await rejection(t.oauth.groups.addClient('nobody', 'g'))).toMatchObject({ code: 'not_found', field: 'client_id' });
    expect(await rejection(t.oauth.groups.addClient(id, 'nope'))).toMatchObject({ code: 'not_found', field: 'group' });
    expect(await rejection(t.oauth.groups.removeClient(id, 'g'))).toMatchObject({ code: 'not_found', field: 'group' });
    expect(await rejection(t.oauth.groups.setClientGroups(id, ['g', 'nope']))).toMatchObject({ code: 'invalid', field: 'groups' });
    expect((await t.oauth.registry.get(id)).groups).toEqual([]);
  });

  it('records group.updated with the members whose permissions changed, and the old and new values', async () => {
    const { id } = await t.createClient('read');
    await t.oauth.groups.create({ name: 'g' });
    await t.oauth.groups.addClient(id, 'g');
    await t.oauth.groups.update('g', { scopes: 'x', audiences: ['urn:example:orders'] });
    expect(events.at(-1)).toMatchObject({
      type: 'group.updated',
      group: 'g',
      changes: ['scopes', 'audiences'],
      members: [id],
      before: { scopes: [], audiences: [] },
      after: { scopes: ['x'], audiences: ['urn:example:orders'] },
    });
    expect(await rejection(t.oauth.groups.update('g', {}))).toMatchObject({ code: 'invalid' });
  });
});
