// Group scopes at the token endpoint: a member may ask for its groups' scopes, and a group change is seen by the next request, whichever process made it.
import request from 'supertest';
import { SqliteStore } from '../../lib/store/sqlite';
import { GroupRegistry, ClientRegistry } from '../../lib/core';
import { buildApp, type TestApp } from '../helpers';

let t: TestApp;
beforeEach(async () => {
  t = await buildApp();
});
afterEach(() => t.close());

function tokenRequest(id: string, secret: string, scope?: string) {
  return request(t.app)
    .post('/oauth/token')
    .auth(id, secret)
    .type('form')
    .send({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) });
}

describe('token endpoint with groups', () => {
  it('grants a scope the client holds only through a group (RFC 6749 §3.3)', async () => {
    const { id, secret } = await t.createClient('read');
    await t.oauth.groups.create({ name: 'billing', scopes: 'invoices:read' });
    await t.oauth.groups.addClient(id, 'billing');
    const res = await tokenRequest(id, secret, 'read invoices:read');
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe('read invoices:read');
  });

  it('grants own and group scopes when the request has no scope parameter', async () => {
    const { id, secret } = await t.createClient('read');
    await t.oauth.groups.create({ name: 'g', scopes: 'write' });
    await t.oauth.groups.addClient(id, 'g');
    expect((await tokenRequest(id, secret)).body.scope).toBe('read write');
  });

  it('refuses a group scope with invalid_scope once the client leaves the group', async () => {
    const { id, secret } = await t.createClient('read');
    await t.oauth.groups.create({ name: 'g', scopes: 'write' });
    await t.oauth.groups.addClient(id, 'g');
    expect((await tokenRequest(id, secret, 'write')).status).toBe(200);
    await t.oauth.groups.removeClient(id, 'g');
    const res = await tokenRequest(id, secret, 'write');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_scope', error_description: 'scope not allowed for this client: write' });
  });

  it('sees a group scope change by the next token request', async () => {
    const { id, secret } = await t.createClient('read');
    await t.oauth.groups.create({ name: 'g', scopes: 'write' });
    await t.oauth.groups.addClient(id, 'g');
    expect((await tokenRequest(id, secret, 'write')).status).toBe(200);
    await t.oauth.groups.setScopes('g', 'delete');
    expect((await tokenRequest(id, secret, 'write')).body.error).toBe('invalid_scope');
    expect((await tokenRequest(id, secret, 'delete')).body.scope).toBe('delete');
  });

  it('sees a group change made through another store object on the same database file (another process, such as the CLI)', async () => {
    const { id, secret } = await t.createClient('read');
    const other = SqliteStore.open(t.database);
    try {
      const now = () => Date.now();
      const groups = new GroupRegistry(other, { clock: now });
      await groups.create({ name: 'ops', scopes: 'deploy' });
      await groups.addClient(id, 'ops');
      expect((await tokenRequest(id, secret, 'deploy')).body.scope).toBe('deploy');
      await groups.setScopes('ops', 'observe');
      expect((await tokenRequest(id, secret, 'deploy')).body.error).toBe('invalid_scope');
      expect((await tokenRequest(id, secret, 'observe')).status).toBe(200);
      await new ClientRegistry(other, { bcryptCost: 4, clock: now }).setEnabled(id, false);
      expect((await tokenRequest(id, secret, 'observe')).body).toEqual({
        error: 'unauthorized_client',
        error_description: 'the client is disabled',
      });
    } finally {
      await other.close();
    }
  });

  it('lets the change watcher of this instance hear of a group change made by another process', async () => {
    const other = SqliteStore.open(t.database);
    try {
      let heard = 0;
      t.oauth.server.changes.subscribe(() => heard++);
      await t.oauth.server.changes.poll();
      heard = 0;
      await other.createGroup({ name: 'g', scopes: ['x'], audiences: [] }, Date.now());
      await t.oauth.server.changes.poll();
      expect(heard).toBe(1);
    } finally {
      await other.close();
    }
  });
});
