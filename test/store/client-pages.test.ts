// The store's paged client list (a keyset query with filters) and its conditional writes (expectedVersion), which every Store implements: run against SQLite and PostgreSQL alike.
import { StoreError, type NewClient, type Store } from '../../lib/store';
import { ClientRegistry } from '../../lib/core/admin/registry';
import { STORE_HARNESSES, type StoreFixture } from '../support/stores';

const client = (id: string, overrides: Partial<NewClient> = {}): NewClient => ({
  id,
  name: 'svc',
  scopes: ['read'],
  audiences: [],
  grantTypes: ['client_credentials'],
  tokenFormat: 'jwt',
  secretHash: '$2b$04$notarealhashnotarealhashnotarealhashnotarealhashnot',
  ...overrides,
});

describe.each(STORE_HARNESSES.map((h) => [h.name, h] as const))('%s store', (_name, harness) => {
  const available = harness.available;
  const test = available ? it : it.skip;
  let fx: StoreFixture;
  let store: Store;
  beforeEach(async () => {
    if (!available) return;
    fx = await harness.fresh();
    store = fx.store;
  });
  afterEach(async () => {
    if (available) await fx.cleanup();
  });

  describe('listClientsPage', () => {
    test('pages by id with no OFFSET: each client once, nextAfter only while a full page came back', async () => {
      for (const id of ['c', 'a', 'e', 'b', 'd']) await store.createClient(client(id), 1);
      const first = await store.listClientsPage({ limit: 2 });
      expect(first.clients.map((c) => c.id)).toEqual(['a', 'b']);
      expect(first.nextAfter).toBe('b');
      const second = await store.listClientsPage({ limit: 2, after: 'b' });
      expect(second.clients.map((c) => c.id)).toEqual(['c', 'd']);
      const last = await store.listClientsPage({ limit: 2, after: 'd' });
      expect(last).toEqual({ clients: [expect.objectContaining({ id: 'e' })] });
    });

    test('gives each client of a page exactly as getClient does: secrets in order, groups, effective grants', async () => {
      await store.createGroup({ name: 'g1', scopes: ['x'], audiences: ['urn:example:a'] }, 1);
      await store.createGroup({ name: 'g2', scopes: ['y'], audiences: [] }, 1);
      for (const id of ['a', 'b', 'c']) await store.createClient(client(id), 1);
      await store.setClientGroups('a', ['g2', 'g1'], 2);
      await store.rotateSecret('b', { hash: 'h2', previousValidUntil: 10_000 }, 3);
      const page = await store.listClientsPage({ limit: 10 });
      const one = await Promise.all(['a', 'b', 'c'].map((id) => store.getClient(id)));
      expect(page.clients).toEqual(one);
    });

    test('matches a scope as a whole space-delimited token, never a substring or a LIKE pattern', async () => {
      await store.createClient(client('a', { scopes: ['orders:read'] }), 1);
      await store.createClient(client('b', { scopes: ['orders:readwrite', 'x%'] }), 1);
      expect((await store.listClientsPage({ limit: 10, scope: 'orders:read' })).clients.map((c) => c.id)).toEqual(['a']);
      expect((await store.listClientsPage({ limit: 10, scope: '%' })).clients).toEqual([]);
      expect((await store.listClientsPage({ limit: 10, scope: 'x%' })).clients.map((c) => c.id)).toEqual(['b']);
    });
  });

  describe('conditional writes (expectedVersion)', () => {
    test('applies an update only at the expected version, else rejects with a stale StoreError and changes nothing', async () => {
      const created = await store.createClient(client('a'), 1);
      await expect(store.updateClient('a', { name: 'x', expectedVersion: created.version + 1 }, 2)).rejects.toEqual(
        expect.objectContaining({ name: 'StoreError', code: 'stale' }),
      );
      expect((await store.getClient('a'))?.name).toBe('svc');
      expect((await store.updateClient('a', { name: 'x', expectedVersion: created.version }, 2))?.name).toBe('x');
      expect(await store.updateClient('nope', { name: 'x', expectedVersion: 1 }, 2)).toBeUndefined();
    });

    test('deletes only at the expected version', async () => {
      const created = await store.createClient(client('a'), 1);
      await expect(store.deleteClient('a', { expectedVersion: created.version + 1 })).rejects.toBeInstanceOf(StoreError);
      expect(await store.deleteClient('a', { expectedVersion: created.version })).toBe(true);
    });
  });

  describe('ClientRegistry.pages', () => {
    test('walks every page of a filtered list in order, one store page at a time', async () => {
      for (const id of ['a', 'b', 'c', 'd', 'e']) await store.createClient(client(id, { name: id === 'c' ? 'other' : 'svc' }), 1);
      const registry = new ClientRegistry(store, { bcryptCost: 4, clock: () => 1 });
      const pages: string[][] = [];
      for await (const page of registry.pages({ name: 'svc', pageSize: 2 })) pages.push(page.map((c) => c.id));
      expect(pages).toEqual([['a', 'b'], ['d', 'e']]);
    });
  });
});
