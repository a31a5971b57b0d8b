// Issue 10.12: one bcrypt cost per database, stored at first open and read by the server and the CLI, so an unknown id and a wrong secret cost the same.
import { join } from 'node:path';
import bcrypt from 'bcrypt';
import { createOAuth } from '../../lib';
import { SqliteStore } from '../../lib/store/sqlite';
import { runCli } from '../cli/in-process';
import { ISSUER, memoryLogger, tempDir } from '../helpers';

const costOf = (hash: string | undefined) => Number(/^\$2[aby]\$(\d\d)\$/.exec(hash ?? '')?.[1]);

describe('bcrypt cost shared through the database (issue 10.12)', () => {
  it('stores the first cost a store is opened with and keeps answering it (Store.bcryptCost)', async () => {
    const { dir, cleanup } = tempDir();
    const store = SqliteStore.open(join(dir, 'oauth.sqlite'));
    try {
      expect(await store.bcryptCost(5)).toBe(5);
      expect(await store.bcryptCost(12)).toBe(5);
    } finally {
      await store.close();
      cleanup();
    }
  });

  it('makes the server hash at the cost the CLI wrote, and says so when its explicit bcryptCost differs', async () => {
    const { dir, cleanup } = tempDir();
    const database = join(dir, 'oauth.sqlite');
    try {
      expect((await runCli(['client', 'create', '--name', 'first'], { OAUTH_DB: database, OAUTH_BCRYPT_COST: '5' })).code).toBe(0);
      const logger = memoryLogger();
      const oauth = createOAuth({ issuer: ISSUER, database, bcryptCost: 4, logger });
      try {
        const { client } = await oauth.registry.create({ name: 'second' });
        expect(costOf(client.secrets[0]?.hash)).toBe(5);
        expect(await oauth.server.bcryptCost()).toBe(5);
        expect(logger.lines).toContain("warn bcryptCost 4 differs from the database's 5; using 5, the cost its secrets and the CLI use");
      } finally {
        await oauth.close();
      }
    } finally {
      cleanup();
    }
  });

  it('makes the CLI hash at the cost the server wrote, and refuses a differing OAUTH_BCRYPT_COST', async () => {
    const { dir, cleanup } = tempDir();
    const database = join(dir, 'oauth.sqlite');
    try {
      const oauth = createOAuth({ issuer: ISSUER, database, bcryptCost: 5, logger: memoryLogger() });
      await oauth.server.bcryptCost();
      await oauth.close();
      const created = await runCli(['client', 'create', '--name', 'svc', '--json'], { OAUTH_DB: database });
      expect(created.code).toBe(0);
      const id = (JSON.parse(created.out) as { client_id: string }).client_id;
      const conflicting = await runCli(['client', 'create', '--name', 'other'], { OAUTH_DB: database, OAUTH_BCRYPT_COST: '4' });
      expect(conflicting.code).toBe(1);
      expect(conflicting.err).toContain('OAUTH_BCRYPT_COST=4 but the database hashes secrets at cost 5');
      const store = SqliteStore.open(database);
      try {
        expect(costOf((await store.getClient(id))?.secrets[0]?.hash)).toBe(5);
        expect((await store.listClients()).map((c) => c.name)).toEqual(['svc']);
      } finally {
        await store.close();
      }
    } finally {
      cleanup();
    }
  });
});

describe('dummy hash at the database\'s cost (issue 10.12)', () => {
  it('hashes the dummy again at the stored cost when the configured one differs, so unknown ids cost what wrong secrets do', async () => {
    const { dir, cleanup } = tempDir();
    const database = join(dir, 'oauth.sqlite');
    const hash = jest.spyOn(bcrypt, 'hash');
    try {
      const first = createOAuth({ issuer: ISSUER, database, bcryptCost: 5, logger: memoryLogger() });
      await first.server.bcryptCost();
      await first.close();
      hash.mockClear();
      const oauth = createOAuth({ issuer: ISSUER, database, bcryptCost: 4, logger: memoryLogger() });
      try {
        await oauth.server.bcryptCost();
        await expect(oauth.server.authenticateClient('unknown', 'secret')).rejects.toMatchObject({ error: 'invalid_client' });
        expect(hash.mock.calls.map((call) => call[1])).toEqual([4, 5]);
      } finally {
        await oauth.close();
      }
    } finally {
      hash.mockRestore();
      cleanup();
    }
  });
});
