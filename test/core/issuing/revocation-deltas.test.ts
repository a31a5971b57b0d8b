// Store changes reach the in-memory revocation state as deltas: a revoked jti is added, a client change refreshes one client, and only "all" reloads everything.
import { RevocationState } from '../../../lib/core/issuing/revocation';
import { ChangeWatcher } from '../../../lib/core/issuing/changes';
import type { ChangeFeed, ClientStatus, RevokedToken, StoreChange } from '../../../lib/store/types';
import type { Client } from '../../../lib/core';

const NOW = Date.UTC(2026, 0, 1);

/** A store that counts what the revocation state reads. */
function countingStore(clients: ClientStatus[], revoked: RevokedToken[] = []) {
  const reads = { listRevokedTokens: 0, listClientStatuses: 0, getClient: 0 };
  const statuses = new Map(clients.map((c) => [c.id, c]));
  return {
    reads,
    statuses,
    store: {
      async listRevokedTokens() {
        reads.listRevokedTokens++;
        return revoked;
      },
      async listClientStatuses() {
        reads.listClientStatuses++;
        return [...statuses.values()];
      },
      async getClient(id: string) {
        reads.getClient++;
        const s = statuses.get(id);
        return s && ({ id: s.id, enabled: s.enabled, tokensNotBefore: s.tokensNotBefore } as unknown as Client);
      },
      async revokeToken() {
        return true;
      },
      async saveReferenceToken() {},
      async findReferenceToken() {
        return undefined;
      },
      async listReferenceTokens() {
        return [];
      },
      async findReferenceTokenByJti() {
        return undefined;
      },
    },
  };
}

const claims = (jti: string, clientId = 'c1') => ({ jti, client_id: clientId, sub: clientId, iat: NOW / 1000 });

describe('revocation state deltas', () => {
  it('voids a revoked jti from the delta alone, without reloading the revocation list', async () => {
    const { store, reads } = countingStore([{ id: 'c1', enabled: true, tokensNotBefore: 0 }]);
    const state = new RevocationState(store, () => NOW);
    expect(await state.voidReason(claims('j1'))).toBeUndefined();
    state.apply({ kind: 'revoked', jti: 'j1', expiresAt: NOW + 1000 });
    expect(await state.voidReason(claims('j1'))).toBe('the access token was revoked');
    expect(await state.voidReason(claims('j2'))).toBeUndefined();
    expect(reads).toEqual({ listRevokedTokens: 1, listClientStatuses: 1, getClient: 0 });
  });

  it('re-reads only the changed client on a client delta', async () => {
    const { store, reads, statuses } = countingStore([
      { id: 'c1', enabled: true, tokensNotBefore: 0 },
      { id: 'c2', enabled: true, tokensNotBefore: 0 },
    ]);
    const state = new RevocationState(store, () => NOW);
    expect(await state.voidReason(claims('a', 'c1'))).toBeUndefined();
    statuses.set('c1', { id: 'c1', enabled: false, tokensNotBefore: 0 });
    state.apply({ kind: 'client', id: 'c1' });
    expect(await state.voidReason(claims('a', 'c1'))).toBe('the client of this access token is disabled');
    expect(await state.voidReason(claims('b', 'c2'))).toBeUndefined();
    expect(await state.voidReason(claims('a', 'c1'))).toBe('the client of this access token is disabled');
    expect(reads).toEqual({ listRevokedTokens: 1, listClientStatuses: 1, getClient: 1 });
  });

  it('keeps a revocation that arrived while a full reload was reading older state', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { store } = countingStore([{ id: 'c1', enabled: true, tokensNotBefore: 0 }]);
    const slow = { ...store, listRevokedTokens: async () => (await gate, []) };
    const state = new RevocationState(slow, () => NOW);
    const first = state.voidReason(claims('j1'));
    state.apply({ kind: 'revoked', jti: 'j1', expiresAt: NOW + 1000 });
    release();
    await first;
    expect(await state.voidReason(claims('j1'))).toBe('the access token was revoked');
  });

  it('reloads everything on "all"', async () => {
    const { store, reads } = countingStore([{ id: 'c1', enabled: true, tokensNotBefore: 0 }]);
    const state = new RevocationState(store, () => NOW);
    await state.voidReason(claims('x'));
    state.apply({ kind: 'all' });
    await state.voidReason(claims('x'));
    expect(reads.listRevokedTokens).toBe(2);
  });
});

describe('change watcher', () => {
  function feed(revision: { value: number }) {
    const listeners = new Set<(change: StoreChange) => void>();
    const f: ChangeFeed & { push(change: StoreChange): void } = {
      revision: async () => revision.value,
      onChange(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      push(change) {
        for (const l of listeners) l(change);
      },
      pollInterval: 60_000,
    };
    return f;
  }

  it('passes pushed deltas on, and does not announce "all" again for revisions it already heard without a gap', async () => {
    const revision = { value: 5 };
    const f = feed(revision);
    const watcher = new ChangeWatcher(f, 500, () => undefined);
    const heard: StoreChange[] = [];
    watcher.subscribe((c) => heard.push(c));
    await watcher.poll(); // baseline 5
    revision.value = 6;
    f.push({ kind: 'revoked', jti: 'j', expiresAt: NOW, revision: 6 });
    await watcher.poll();
    expect(heard).toEqual([{ kind: 'revoked', jti: 'j', expiresAt: NOW, revision: 6 }]);
    // A gap (revision 8 without 7) leaves the baseline, so the poll announces a full re-read.
    revision.value = 8;
    f.push({ kind: 'client', id: 'c', revision: 8 });
    await watcher.poll();
    expect(heard.map((c) => c.kind)).toEqual(['revoked', 'client', 'all']);
    watcher.stop();
  });
});

describe('revocation state with the database down', () => {
  it('keeps checking against the last snapshot and the deltas heard since when a reload fails, and says so', async () => {
    const { store } = countingStore([{ id: 'c1', enabled: true, tokensNotBefore: 0 }], [{ jti: 'old', clientId: 'c1', expiresAt: NOW + 1000 }]);
    let down = false;
    const flaky = {
      ...store,
      listRevokedTokens: async () => {
        if (down) throw new Error('database down');
        return store.listRevokedTokens();
      },
    };
    const reported: unknown[] = [];
    const state = new RevocationState(flaky, () => NOW, (err) => reported.push(err));
    expect(await state.voidReason(claims('old'))).toBe('the access token was revoked');
    down = true;
    state.apply({ kind: 'all' });
    state.apply({ kind: 'revoked', jti: 'new', expiresAt: NOW + 1000 });
    expect(await state.voidReason(claims('old'))).toBe('the access token was revoked');
    expect(await state.voidReason(claims('new'))).toBe('the access token was revoked');
    expect(await state.voidReason(claims('fine'))).toBeUndefined();
    expect(reported).toHaveLength(1);
  });

  it('fails when there has never been a snapshot to fall back on', async () => {
    const { store } = countingStore([]);
    const state = new RevocationState({ ...store, listRevokedTokens: async () => Promise.reject(new Error('down')) }, () => NOW);
    await expect(state.voidReason(claims('x'))).rejects.toThrow('down');
  });
});
