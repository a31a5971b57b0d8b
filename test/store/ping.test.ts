// Store.ping(): the readiness probe's cheap query, on SQLite.
import { join } from 'node:path';
import { SqliteStore } from '../../lib/store/sqlite';
import { StoreError } from '../../lib/store';
import { tempDir } from '../helpers';

describe('SQLite store ping', () => {
  it('resolves on an open database and rejects with a StoreError once it is closed', async () => {
    const { dir, cleanup } = tempDir();
    const store = SqliteStore.open(join(dir, 'oauth.sqlite'));
    try {
      await expect(store.ping()).resolves.toBeUndefined();
      store.db.close();
      await expect(store.ping()).rejects.toBeInstanceOf(StoreError);
    } finally {
      await store.close();
      cleanup();
    }
  });
});
