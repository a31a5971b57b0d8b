// SQLite group storage: CRUD, memberships, conflicts, and the version / revision moves that keep caches honest.
import Database from 'better-sqlite3';
import { SqliteStore } from '../../lib/store/sqlite';
import { StoreError } from '../../lib/store';

const NOW = Date.UTC(2026, 0, 1);
let store: SqliteStore;

beforeEach(() => {
  store = new SqliteStore(new Database(':memory:'));
});
afterEach(async () => {
  await store.close();
  store.db.close();
});

async function addClient(id: string, scopes: string[] = ['read']) {
  return store.createClient(
    { id, name: id, scopes, audiences: [], grantTypes: ['client_credentials'], tokenFormat: 'jwt', secretHash: 'h' },
    NOW,
  );
}

describe('SQLite group store', () => {
  it('creates, reads and lists groups with their members', async () => {
    await store.createGroup({ name: 'billing', scopes: ['invoices:read'], audiences: ['https://billing.internal'] }, NOW);
    await store.createGroup({ name: 'audit', scopes: [], audiences: [] }, NOW + 1);
    await addClient('c1');
    await store.addClientToGroup('c1', 'billing', NOW);
    expect(await store.getGroup('billing')).toEqual({
      name: 'billing',
      scopes: ['invoices:read'],
      audiences: ['https://billing.internal'],
      members: ['c1'],
      createdAt: NOW,
      updatedAt: NOW,
    });
    expect((await store.listGroups()).map((g) => g.name)).toEqual(['audit', 'billing']);
    expect(await store.getGroup('nope')).toBeUndefined();
  });

  it('rejects a second group of the same name with a conflict StoreError', async () => {
    await store.createGroup({ name: 'billing', scopes: [], audiences: [] }, NOW);
    const err = await store.createGroup({ name: 'billing', scopes: ['x'], audiences: [] }, NOW).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('conflict');
    expect((await store.getGroup('billing'))?.scopes).toEqual([]);
  });

  it('gives a member the union of its own and its groups\' scopes and audiences', async () => {
    await store.createGroup({ name: 'g1', scopes: ['a', 'read'], audiences: ['x'] }, NOW);
    await store.createGroup({ name: 'g2', scopes: ['b'], audiences: ['y'] }, NOW);
    await addClient('c1', ['read']);
    const client = await store.setClientGroups('c1', ['g2', 'g1'], NOW);
    expect(client?.groups).toEqual(['g1', 'g2']);
    expect(client?.scopes).toEqual(['read']);
    expect(client?.effectiveScopes).toEqual(['read', 'a', 'b']);
    expect(client?.effectiveAudiences).toEqual(['x', 'y']);
  });

  it('refuses to delete a group that has members unless forced, then drops the memberships', async () => {
    await store.createGroup({ name: 'g', scopes: ['a'], audiences: [] }, NOW);
    await addClient('c1');
    await store.addClientToGroup('c1', 'g', NOW);
    const err = await store.deleteGroup('g', { force: false }).catch((e: unknown) => e);
    expect((err as StoreError).code).toBe('conflict');
    expect(await store.getGroup('g')).toBeDefined();
    expect(await store.deleteGroup('g', { force: true })).toBe(true);
    expect(await store.getGroup('g')).toBeUndefined();
    expect((await store.getClient('c1'))?.groups).toEqual([]);
    expect(await store.deleteGroup('g', { force: true })).toBe(false);
  });

  it('resolves undefined when a membership names an unknown client or group, changing nothing', async () => {
    await store.createGroup({ name: 'g', scopes: [], audiences: [] }, NOW);
    await addClient('c1');
    expect(await store.addClientToGroup('nobody', 'g', NOW)).toBeUndefined();
    expect(await store.addClientToGroup('c1', 'nope', NOW)).toBeUndefined();
    expect(await store.removeClientFromGroup('nobody', 'g', NOW)).toBeUndefined();
    await store.addClientToGroup('c1', 'g', NOW);
    expect(await store.setClientGroups('c1', ['nope'], NOW)).toBeUndefined();
    expect((await store.getClient('c1'))?.groups).toEqual(['g']);
  });

  it('moves a client\'s version on every change to its groups, so version-keyed caches drop it', async () => {
    await store.createGroup({ name: 'g', scopes: ['a'], audiences: [] }, NOW);
    await store.createGroup({ name: 'other', scopes: ['b'], audiences: [] }, NOW);
    await addClient('c1');
    await addClient('c2');
    const v0 = (await store.getClient('c1'))!.version;
    const v1 = (await store.addClientToGroup('c1', 'g', NOW))!.version;
    expect(v1).toBeGreaterThan(v0);
    await store.updateGroup('g', { scopes: ['a', 'c'] }, NOW);
    const v2 = (await store.getClient('c1'))!.version;
    expect(v2).toBeGreaterThan(v1);
    const c2Before = (await store.getClient('c2'))!.version;
    await store.updateGroup('other', { scopes: ['d'] }, NOW);
    expect((await store.getClient('c2'))!.version).toBe(c2Before);
    const v3 = (await store.removeClientFromGroup('c1', 'g', NOW))!.version;
    expect(v3).toBeGreaterThan(v2);
    await store.addClientToGroup('c1', 'g', NOW);
    const v4 = (await store.getClient('c1'))!.version;
    await store.deleteGroup('g', { force: true });
    expect((await store.getClient('c1'))!.version).toBeGreaterThan(v4);
  });

  it('moves the revision counter other processes poll on every group and membership change', async () => {
    await addClient('c1');
    const revisions = [await store.revision()];
    const step = async (change: () => Promise<unknown>) => {
      await change();
      revisions.push(await store.revision());
    };
    await step(() => store.createGroup({ name: 'g', scopes: [], audiences: [] }, NOW));
    await step(() => store.updateGroup('g', { audiences: ['x'] }, NOW));
    await step(() => store.addClientToGroup('c1', 'g', NOW));
    await step(() => store.removeClientFromGroup('c1', 'g', NOW));
    await step(() => store.setClientGroups('c1', ['g'], NOW));
    await step(() => store.deleteGroup('g', { force: true }));
    for (let i = 1; i < revisions.length; i++) expect(revisions[i]).toBeGreaterThan(revisions[i - 1] as number);
  });

  it('tells in-process listeners after each group change', async () => {
    let calls = 0;
    store.onChange(() => calls++);
    await store.createGroup({ name: 'g', scopes: [], audiences: [] }, NOW);
    await store.updateGroup('g', { scopes: ['a'] }, NOW);
    await store.deleteGroup('g', { force: false });
    expect(calls).toBe(3);
  });
});
