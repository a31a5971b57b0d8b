// SQLite's change log: changes made by any process reach listeners as deltas read since the last position, "all" only when the log no longer reaches back, and the guard applies them without re-reading the registry.
import { join } from 'node:path';
import { ClientRegistry } from '../../lib/core';
import { createOAuth, type OAuth } from '../../lib';
import { SqliteStore } from '../../lib/store/sqlite';
import { CHANGE_LOG_LENGTH } from '../../lib/store/migrations';
import type { StoreChange } from '../../lib/store/types';
import { ISSUER, memoryLogger, tempDir } from '../helpers';

let dir: ReturnType<typeof tempDir>;
let database: string;
let mine: SqliteStore;
let other: SqliteStore;
let heard: StoreChange[];

beforeEach(() => {
  dir = tempDir();
  database = join(dir.dir, 'oauth.sqlite');
  mine = SqliteStore.open(database);
  // Another process on the same file: the CLI, another instance.
  other = SqliteStore.open(database);
  heard = [];
  mine.onChange((change) => heard.push(change));
});
afterEach(async () => {
  await mine.close();
  await other.close();
  dir.cleanup();
});

const registryOf = (store: SqliteStore) => new ClientRegistry(store, { bcryptCost: 4, clock: Date.now });

describe('SQLite change log', () => {
  it("announces another process's revocation as its jti on the next catch-up, not as a reload", async () => {
    const { client } = await registryOf(other).create({ name: 'svc', scopes: 'read' });
    await mine.catchUp();
    heard = [];
    await other.revokeToken({ jti: 'j-1', clientId: client.id, expiresAt: Date.now() + 60_000 }, Date.now());
    expect(heard).toEqual([]);
    await mine.catchUp();
    expect(heard).toEqual([{ kind: 'revoked', jti: 'j-1', expiresAt: expect.any(Number) }]);
    await mine.catchUp();
    expect(heard).toHaveLength(1);
  });

  it('announces a disable, a secret rotation and a group change as changes of the clients and group concerned', async () => {
    const registry = registryOf(other);
    const { client } = await registry.create({ name: 'svc', scopes: 'read' });
    const { client: bystander } = await registry.create({ name: 'other', scopes: 'read' });
    await other.createGroup({ name: 'readers', scopes: ['read'], audiences: [] }, Date.now());
    await other.addClientToGroup(client.id, 'readers', Date.now());
    await mine.catchUp();
    heard = [];

    await registry.setEnabled(client.id, false);
    await registry.rotateSecret(client.id);
    await other.updateGroup('readers', { scopes: ['read', 'write'] }, Date.now());
    await mine.catchUp();

    expect(heard.some((c) => c.kind === 'all')).toBe(false);
    expect(heard).toContainEqual({ kind: 'client', id: client.id });
    expect(heard).toContainEqual({ kind: 'group', name: 'readers' });
    expect(heard).not.toContainEqual({ kind: 'client', id: bystander.id });
  });

  it('announces its own writes as deltas at once, without waiting for a catch-up', async () => {
    const { client } = await registryOf(mine).create({ name: 'svc', scopes: 'read' });
    expect(heard).toContainEqual({ kind: 'client', id: client.id });
    heard = [];
    await mine.revokeToken({ jti: 'j-2', clientId: client.id, expiresAt: Date.now() + 60_000 }, Date.now());
    expect(heard).toEqual([{ kind: 'revoked', jti: 'j-2', expiresAt: expect.any(Number) }]);
  });

  it('says "all" when more changed elsewhere than the log keeps', async () => {
    const { client } = await registryOf(other).create({ name: 'svc', scopes: 'read' });
    await mine.catchUp();
    heard = [];
    const insert = other.db.prepare('INSERT INTO revoked_tokens (jti, client_id, expires_at) VALUES (?, ?, ?)');
    const expiresAt = Date.now() + 60_000;
    other.db.transaction(() => {
      for (let i = 0; i <= CHANGE_LOG_LENGTH; i++) insert.run(`bulk-${i}`, client.id, expiresAt);
    })();
    await mine.catchUp();
    expect(heard).toEqual([{ kind: 'all' }]);
    // And it is back on deltas from there.
    heard = [];
    await other.revokeToken({ jti: 'j-3', clientId: client.id, expiresAt }, Date.now());
    await mine.catchUp();
    expect(heard).toEqual([{ kind: 'revoked', jti: 'j-3', expiresAt }]);
  });

  it('keeps only the last CHANGE_LOG_LENGTH entries', async () => {
    const { client } = await registryOf(other).create({ name: 'svc', scopes: 'read' });
    const insert = other.db.prepare('INSERT INTO revoked_tokens (jti, client_id, expires_at) VALUES (?, ?, ?)');
    other.db.transaction(() => {
      for (let i = 0; i < CHANGE_LOG_LENGTH + 50; i++) insert.run(`bulk-${i}`, client.id, Date.now() + 60_000);
    })();
    expect(other.db.prepare('SELECT count(*) AS n FROM change_log').get()).toEqual({ n: CHANGE_LOG_LENGTH });
  });
});

describe('an instance on a SQLite file', () => {
  let oauth: OAuth;
  afterEach(async () => oauth.close());

  it("applies another process's revocation and disable without re-reading every client and revocation", async () => {
    oauth = createOAuth({ issuer: ISSUER, store: mine, bcryptCost: 4, logger: memoryLogger() });
    const { client } = await oauth.registry.create({ name: 'svc', scopes: 'read' });
    const { client: second } = await oauth.registry.create({ name: 'second', scopes: 'read' });
    const issue = async (c: typeof client) => (await oauth.server.issueToken(c, { grant_type: 'client_credentials' })).access_token;
    const [kept, revoked, ofDisabled] = [await issue(client), await issue(client), await issue(second)];
    const verify = (token: string) => oauth.server.verifyAccessToken(token, { audience: [ISSUER] });
    for (const token of [kept, revoked, ofDisabled]) await verify(token);

    const fullReads = jest.spyOn(mine, 'listClientStatuses');
    const revocationReads = jest.spyOn(mine, 'listRevokedTokens');
    const { jti } = JSON.parse(Buffer.from(revoked.split('.')[1] as string, 'base64url').toString()) as { jti: string };
    await other.revokeToken({ jti, clientId: client.id, expiresAt: Date.now() + 60_000 }, Date.now());
    await registryOf(other).setEnabled(second.id, false);
    await oauth.server.changes.poll();

    await expect(verify(revoked)).rejects.toThrow('the access token was revoked');
    await expect(verify(ofDisabled)).rejects.toThrow();
    expect((await verify(kept)).clientId).toBe(client.id);
    expect(fullReads).not.toHaveBeenCalled();
    expect(revocationReads).not.toHaveBeenCalled();
  });
});
