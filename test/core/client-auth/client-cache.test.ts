// The client rows the authentication path keeps: served without a read only while the change feed is in sync, each ended by its own delta, group changes and full reloads in O(1).
import { ClientCache, type ClientChangeSource } from '../../../lib/core/client-auth/client-cache';
import type { Client } from '../../../lib/core/model/client';
import type { StoreChange } from '../../../lib/store/types';
import { clientRow } from '../../helpers';

function row(id: string, version = 1): Client {
  return clientRow({ id, name: id, scopes: ['read'], effectiveScopes: ['read'], version });
}

/** A store whose rows the test sets, counting reads; a read can be held open to overlap a change. */
function fakeStore() {
  const rows = new Map<string, Client>();
  let reads = 0;
  let hold: Promise<void> | undefined;
  return {
    rows,
    get reads() {
      return reads;
    },
    holdReads(until: Promise<void>) {
      hold = until;
    },
    async getClient(id: string): Promise<Client | undefined> {
      reads++;
      const found = rows.get(id);
      const copy = found && (JSON.parse(JSON.stringify(found)) as Client);
      if (hold) await hold;
      return copy;
    },
  };
}

function fakeSource(): ClientChangeSource & { push(change: StoreChange): void; synced: boolean } {
  const listeners = new Set<(change: StoreChange) => void>();
  return {
    synced: true,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    inSync() {
      return this.synced;
    },
    push(change) {
      for (const listener of listeners) listener(change);
    },
  };
}

describe('ClientCache', () => {
  it('serves a returning client without a store read while every change has been heard', async () => {
    const store = fakeStore();
    store.rows.set('a', row('a'));
    const cache = new ClientCache(store, fakeSource(), 10);
    const first = await cache.getClient('a');
    expect(await cache.getClient('a')).toBe(first);
    expect(await cache.getClient('a')).toBe(first);
    expect(store.reads).toBe(1);
  });

  it('reads the store whenever the change feed cannot say it has heard every change', async () => {
    const store = fakeStore();
    store.rows.set('a', row('a'));
    const source = fakeSource();
    const cache = new ClientCache(store, source, 10);
    await cache.getClient('a');
    source.synced = false;
    store.rows.set('a', row('a', 2));
    expect((await cache.getClient('a'))?.version).toBe(2);
    expect((await cache.getClient('a'))?.version).toBe(2);
    expect(store.reads).toBe(3);
  });

  it("ends only the changed client's row on its delta (rotation, disabling, membership)", async () => {
    const store = fakeStore();
    store.rows.set('a', row('a'));
    store.rows.set('b', row('b'));
    const source = fakeSource();
    const cache = new ClientCache(store, source, 10);
    await cache.getClient('a');
    await cache.getClient('b');
    store.rows.set('a', { ...row('a', 2), enabled: false });
    source.push({ kind: 'client', id: 'a' });
    expect(await cache.getClient('a')).toMatchObject({ version: 2, enabled: false });
    await cache.getClient('b');
    expect(store.reads).toBe(3);
  });

  it('ends every row at once on a group change or a full reload, without walking them', async () => {
    const store = fakeStore();
    for (const id of ['a', 'b', 'c']) store.rows.set(id, row(id));
    const source = fakeSource();
    const cache = new ClientCache(store, source, 10);
    for (const id of ['a', 'b', 'c']) await cache.getClient(id);
    source.push({ kind: 'group', name: 'readers' });
    for (const id of ['a', 'b', 'c']) await cache.getClient(id);
    expect(store.reads).toBe(6);
    source.push({ kind: 'all' });
    await cache.getClient('a');
    expect(store.reads).toBe(7);
    // Keys and revocations are not part of a client row.
    source.push({ kind: 'keys' });
    source.push({ kind: 'revoked', jti: 'j', expiresAt: 1 });
    await cache.getClient('a');
    expect(store.reads).toBe(7);
  });

  it('does not keep a row whose read overlapped a change to any client', async () => {
    const store = fakeStore();
    store.rows.set('a', row('a'));
    const source = fakeSource();
    const cache = new ClientCache(store, source, 10);
    let release!: () => void;
    store.holdReads(new Promise<void>((resolve) => (release = resolve)));
    const pending = cache.getClient('a');
    source.push({ kind: 'client', id: 'a' });
    release();
    await pending;
    store.holdReads(Promise.resolve());
    await cache.getClient('a');
    expect(store.reads).toBe(2);
  });

  it('never keeps an unknown client id', async () => {
    const store = fakeStore();
    const cache = new ClientCache(store, fakeSource(), 10);
    expect(await cache.getClient('nobody')).toBeUndefined();
    expect(await cache.getClient('nobody')).toBeUndefined();
    expect(store.reads).toBe(2);
    expect(cache.size).toBe(0);
  });

  it('holds at most its configured number of rows, least recently used going first', async () => {
    const store = fakeStore();
    for (const id of ['a', 'b', 'c']) store.rows.set(id, row(id));
    const cache = new ClientCache(store, fakeSource(), 2);
    await cache.getClient('a');
    await cache.getClient('b');
    await cache.getClient('a');
    await cache.getClient('c');
    expect(cache.size).toBe(2);
    await cache.getClient('a');
    expect(store.reads).toBe(3);
    await cache.getClient('b');
    expect(store.reads).toBe(4);
  });

  it('reads every time with a size of 0', async () => {
    const store = fakeStore();
    store.rows.set('a', row('a'));
    const cache = new ClientCache(store, fakeSource(), 0);
    await cache.getClient('a');
    await cache.getClient('a');
    expect(store.reads).toBe(2);
  });

  it('hands out rows no caller can change for the others', async () => {
    const store = fakeStore();
    store.rows.set('a', row('a'));
    const cache = new ClientCache(store, fakeSource(), 10);
    const client = (await cache.getClient('a')) as Client;
    expect(() => {
      (client as { enabled: boolean }).enabled = false;
    }).toThrow(TypeError);
    expect(() => client.effectiveScopes.push('admin')).toThrow(TypeError);
  });
});
