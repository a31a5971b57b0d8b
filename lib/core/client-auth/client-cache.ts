// Client rows kept for the authentication path: served without a store read only while the change feed says every committed change has been heard, forgotten per client on its delta.
import type { LRUCache } from 'lru-cache';
import { boundedLru } from '../model/bounded-lru';
import { deepFreeze } from '../model/deep-freeze';
import type { Client } from '../model/client';
import type { ClientStore, StoreChange } from '../../store/types';

/** What the cache needs of the change watcher: the deltas, and whether they are complete now. */
export interface ClientChangeSource {
  subscribe(listener: (change: StoreChange) => void): () => void;
  /** Whether every change committed so far, by any process, has been announced (ChangeWatcher.inSync). */
  inSync(): boolean;
}

interface Entry {
  client: Client;
  /** {@link ClientCache}'s epoch when the row was read: a group change or a full reload ends every older entry. */
  epoch: number;
}

/**
 * A returning client's row without a store read, as a `getClient` for the client authenticator.
 * An entry is served only when the change source says, synchronously, that every change committed so
 * far by any process has been announced (SQLite: one `PRAGMA data_version` read, and the change log
 * read at once when another process committed; PostgreSQL: while the LISTEN connection is up); else
 * the row is read as before. Each announced change ends what it touches and nothing else: a client's
 * delta (its row, secrets, memberships) deletes that entry; a group change or `all` moves the epoch,
 * which ends every older entry when next looked at (O(1) per change, whatever the cache holds). A read
 * that overlapped any client change is not kept. Bounded in count (least recently used go first);
 * rows are deeply frozen, as every request of the client shares them. `maxEntries` 0 reads every time.
 *
 * @example
 * const clients = new ClientCache(store, server.changes, 10_000);
 * const client = await clients.getClient(id);
 */
export class ClientCache implements Pick<ClientStore, 'getClient'> {
  private readonly entries: LRUCache<string, Entry> | undefined;
  private epoch = 0;
  /** Moves on every change that can touch a client row: a read that saw it move is not kept. */
  private changes = 0;

  constructor(
    private readonly store: Pick<ClientStore, 'getClient'>,
    private readonly source: ClientChangeSource,
    maxEntries: number,
  ) {
    this.entries = maxEntries > 0 ? boundedLru<string, Entry>(maxEntries) : undefined;
    if (this.entries) source.subscribe((change) => this.apply(change));
  }

  getClient(id: string): Promise<Client | undefined> {
    if (!this.entries) return this.store.getClient(id);
    // inSync() first: it announces what other processes committed, which may end this very entry.
    if (this.source.inSync()) {
      const entry = this.entries.get(id);
      if (entry !== undefined && entry.epoch === this.epoch) return Promise.resolve(entry.client);
    }
    return this.read(id);
  }

  /** How many client rows are kept (tests, metrics). */
  get size(): number {
    return this.entries?.size ?? 0;
  }

  private async read(id: string): Promise<Client | undefined> {
    const { changes, epoch } = this;
    const client = await this.store.getClient(id);
    if (client === undefined) return undefined;
    deepFreeze(client);
    if (changes === this.changes) this.entries?.set(id, { client, epoch });
    return client;
  }

  private apply(change: StoreChange): void {
    switch (change.kind) {
      case 'client':
        this.changes++;
        this.entries?.delete(change.id);
        return;
      case 'group':
      case 'all':
        this.changes++;
        this.epoch++;
        return;
      default:
        // Keys and revocations are not part of a client row.
        return;
    }
  }
}
