// Changes made by another process (the CLI, another instance) reach this instance's guard within one poll interval (default 500 ms), on the watcher's own timer.
import { join } from 'node:path';
import { ClientRegistry } from '../../../lib/core';
import { createOAuth, DEFAULTS, type OAuth } from '../../../lib';
import { SqliteStore } from '../../../lib/store/sqlite';
import { memoryLogger, tempDir, ISSUER } from '../../helpers';

let oauth: OAuth;
let other: SqliteStore;
let cleanup: () => void;

beforeEach(() => {
  // Only timers are faked; promises, crypto's thread pool and SQLite run as usual.
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'Date'] });
  const dir = tempDir();
  cleanup = dir.cleanup;
  const database = join(dir.dir, 'oauth.sqlite');
  oauth = createOAuth({ issuer: ISSUER, database, bcryptCost: 4, logger: memoryLogger() });
  other = SqliteStore.open(database);
});
afterEach(async () => {
  jest.useRealTimers();
  await oauth.close();
  await other.close();
  cleanup();
});

describe('changes made by another process', () => {
  it('void a disabled client\'s token at the in-process guard within one second by default, through the poll timer', async () => {
    expect(DEFAULTS.syncInterval).toBeLessThanOrEqual(1000);
    const { client } = await oauth.registry.create({ name: 'svc', scopes: 'read' });
    const { access_token: token } = await oauth.server.issueToken(client, { grant_type: 'client_credentials' });
    const verify = () => oauth.server.verifyAccessToken(token, { audience: [ISSUER] });
    expect((await verify()).clientId).toBe(client.id);
    await jest.advanceTimersByTimeAsync(DEFAULTS.syncInterval); // the watcher has a baseline revision
    expect((await verify()).clientId).toBe(client.id); // and the guard's state is fresh

    // The CLI (another connection) disables the client; this process has not looked yet.
    await new ClientRegistry(other, { bcryptCost: 4, clock: Date.now }).setEnabled(client.id, false);
    expect((await verify()).clientId).toBe(client.id);

    await jest.advanceTimersByTimeAsync(DEFAULTS.syncInterval);
    await expect(verify()).rejects.toMatchObject({ error: 'invalid_token', message: 'the client of this access token is disabled' });
  });
});
