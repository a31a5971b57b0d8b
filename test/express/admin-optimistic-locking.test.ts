// Optimistic locking beyond client PATCH/DELETE/enable/disable (issue 18 item 4): rotate-secret, groups and memberships honour If-Match (RFC 9110 §13.1.1).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { buildApp, type TestApp } from '../helpers';

let t: TestApp;
let server: Server;
let base: string;
let adminToken: string;

beforeEach(async () => {
  t = await buildApp({ signingAlgorithm: 'ES256', accessTokenLifetime: 600 });
  t.app.use('/admin', t.oauth.adminRouter());
  server = t.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const admin = await t.createClient('oauth:admin', 'admin tool');
  adminToken = await t.tokenFor(admin.id, admin.secret);
});
afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  await t.close();
});

const as = <T extends request.Test>(req: T, ifMatch?: string): T => {
  req.auth(adminToken, { type: 'bearer' });
  if (ifMatch !== undefined) req.set('If-Match', ifMatch);
  return req;
};
const admin = {
  get: (path: string) => as(request(base).get(path)),
  post: (path: string, body: object = {}, ifMatch?: string) => as(request(base).post(path), ifMatch).send(body),
  patch: (path: string, body: object, ifMatch?: string) => as(request(base).patch(path), ifMatch).send(body),
  put: (path: string, ifMatch?: string) => as(request(base).put(path), ifMatch),
  delete: (path: string, ifMatch?: string) => as(request(base).delete(path), ifMatch),
};

function tokenRequest(id: string, secret: string) {
  return request(base).post('/oauth/token').auth(id, secret).type('form').send({ grant_type: 'client_credentials' });
}

const clientEtag = async (id: string) => (await admin.get(`/admin/clients/${id}`)).headers.etag as string;
const groupEtag = async (name: string) => (await admin.get(`/admin/groups/${name}`)).headers.etag as string;

describe('rotate-secret honours If-Match (RFC 9110 §13.1.1)', () => {
  it('refuses a rotation with a stale If-Match with 412 and keeps the secret: the old one still gets tokens', async () => {
    const { id, secret } = await t.createClient('read');
    const etag = await clientEtag(id);
    await admin.patch(`/admin/clients/${id}`, { description: 'changed meanwhile' });
    const stale = await admin.post(`/admin/clients/${id}/rotate-secret`, {}, etag);
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ error: 'precondition_failed' });
    expect(stale.body.client_secret).toBeUndefined();
    expect((await tokenRequest(id, secret)).status).toBe(200);
    expect((await t.oauth.registry.get(id)).secrets).toHaveLength(1);
  });

  it('rotates at the current ETag and answers with the new ETag (RFC 9110 §8.8.3), which the next change needs', async () => {
    const { id, secret } = await t.createClient('read');
    const etag = await clientEtag(id);
    const rotated = await admin.post(`/admin/clients/${id}/rotate-secret`, {}, etag);
    expect(rotated.status).toBe(200);
    expect(rotated.headers.etag).toBe(`"${rotated.body.version}"`);
    expect(rotated.headers.etag).not.toBe(etag);
    expect((await tokenRequest(id, secret)).status).toBe(401);
    expect((await tokenRequest(id, rotated.body.client_secret as string)).status).toBe(200);
    // The ETag of before the rotation is stale now.
    expect((await admin.post(`/admin/clients/${id}/rotate-secret`, {}, etag)).status).toBe(412);
    expect((await admin.post(`/admin/clients/${id}/rotate-secret`, {}, rotated.headers.etag as string)).status).toBe(200);
  });
});

describe('groups carry a version as their ETag (RFC 9110 §8.8.3)', () => {
  it('sends the group version as a strong ETag on create, show and change', async () => {
    const created = await admin.post('/admin/groups', { name: 'team', scope: 'a' });
    expect(created.status).toBe(201);
    expect(created.headers.etag).toBe(`"${created.body.version}"`);
    const shown = await admin.get('/admin/groups/team');
    expect(shown.headers.etag).toBe(created.headers.etag);
    const changed = await admin.patch('/admin/groups/team', { scope: 'a b' });
    expect(changed.headers.etag).toBe(`"${changed.body.version}"`);
    expect(changed.body.version).toBeGreaterThan(created.body.version as number);
  });

  it('moves the group ETag when a member joins or leaves, not only when its scopes change', async () => {
    const { id } = await t.createClient('read');
    await admin.post('/admin/groups', { name: 'team' });
    const before = await groupEtag('team');
    await admin.put(`/admin/clients/${id}/groups/team`);
    const joined = await groupEtag('team');
    expect(joined).not.toBe(before);
    await admin.delete(`/admin/clients/${id}/groups/team`);
    expect(await groupEtag('team')).not.toBe(joined);
  });
});

describe('group changes honour If-Match (RFC 9110 §13.1.1)', () => {
  it('refuses a group PATCH with a stale If-Match with 412 and changes nothing; the current ETag and * go through', async () => {
    await admin.post('/admin/groups', { name: 'team', scope: 'a' });
    const etag = await groupEtag('team');
    const first = await admin.patch('/admin/groups/team', { scope: 'b' }, etag);
    expect(first.status).toBe(200);
    const stale = await admin.patch('/admin/groups/team', { scope: 'c' }, etag);
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ error: 'precondition_failed' });
    expect((await t.oauth.groups.get('team')).scopes).toEqual(['b']);
    expect((await admin.patch('/admin/groups/team', { scope: 'd' }, '*')).status).toBe(200);
    // Strong comparison: a weak tag never matches.
    expect((await admin.patch('/admin/groups/team', { scope: 'e' }, `W/${await groupEtag('team')}`)).status).toBe(412);
  });

  it('refuses a group PATCH conditioned on a view taken before a member joined (the members are part of the group)', async () => {
    const { id } = await t.createClient('read');
    await admin.post('/admin/groups', { name: 'team', scope: 'a' });
    const etag = await groupEtag('team');
    await admin.put(`/admin/clients/${id}/groups/team`);
    expect((await admin.patch('/admin/groups/team', { scope: 'admin:everything' }, etag)).status).toBe(412);
    expect((await t.oauth.groups.get('team')).scopes).toEqual(['a']);
  });

  it('refuses a group DELETE with a stale If-Match with 412; the group stays; the current ETag deletes it', async () => {
    await admin.post('/admin/groups', { name: 'team', scope: 'a' });
    const etag = await groupEtag('team');
    await admin.patch('/admin/groups/team', { scope: 'b' });
    expect((await admin.delete('/admin/groups/team', etag)).status).toBe(412);
    expect((await admin.get('/admin/groups/team')).status).toBe(200);
    expect((await admin.delete('/admin/groups/team', await groupEtag('team'))).status).toBe(204);
    expect((await admin.get('/admin/groups/team')).status).toBe(404);
  });

  it('re-checks the version in the store transaction: a change landing after the check is still 412, nothing changed', async () => {
    await admin.post('/admin/groups', { name: 'team', scope: 'a' });
    const etag = await groupEtag('team');
    const store = t.oauth.server.store;
    const realUpdate = store.updateGroup.bind(store);
    const realDelete = store.deleteGroup.bind(store);
    // Another operator's change commits between the router's If-Match check and this request's transaction.
    store.updateGroup = async (name, changes, now) => {
      store.updateGroup = realUpdate;
      await realUpdate(name, { audiences: ['https://other.example'] }, now);
      return realUpdate(name, changes, now);
    };
    expect((await admin.patch('/admin/groups/team', { scope: 'b' }, etag)).status).toBe(412);
    expect(await t.oauth.groups.get('team')).toMatchObject({ scopes: ['a'], audiences: ['https://other.example'] });
    const current = await groupEtag('team');
    store.deleteGroup = async (name, options) => {
      store.deleteGroup = realDelete;
      await realUpdate(name, { scopes: ['c'] }, Date.now());
      return realDelete(name, options);
    };
    expect((await admin.delete('/admin/groups/team', current)).status).toBe(412);
    expect((await t.oauth.groups.get('team')).scopes).toEqual(['c']);
  });
});

describe('membership changes honour If-Match on the client (RFC 9110 §13.1.1)', () => {
  it('refuses to add or remove a membership with a stale client ETag with 412, changing nothing', async () => {
    const { id } = await t.createClient('read');
    await admin.post('/admin/groups', { name: 'team', scope: 'a' });
    const etag = await clientEtag(id);
    await admin.patch(`/admin/clients/${id}`, { description: 'changed meanwhile' });
    expect((await admin.put(`/admin/clients/${id}/groups/team`, etag)).status).toBe(412);
    expect((await t.oauth.registry.get(id)).groups).toEqual([]);
    const joined = await admin.put(`/admin/clients/${id}/groups/team`, await clientEtag(id));
    expect(joined.status).toBe(200);
    expect(joined.body.groups).toEqual(['team']);
    expect((await admin.delete(`/admin/clients/${id}/groups/team`, etag)).status).toBe(412);
    expect((await t.oauth.registry.get(id)).groups).toEqual(['team']);
    const left = await admin.delete(`/admin/clients/${id}/groups/team`, joined.headers.etag as string);
    expect(left.status).toBe(200);
    expect(left.body.groups).toEqual([]);
  });

  it('re-checks the client version in the store transaction: a change landing after the check is still 412', async () => {
    const { id } = await t.createClient('read');
    await admin.post('/admin/groups', { name: 'team', scope: 'a' });
    const etag = await clientEtag(id);
    const store = t.oauth.server.store;
    const realAdd = store.addClientToGroup.bind(store);
    store.addClientToGroup = async (clientId, group, now, condition) => {
      store.addClientToGroup = realAdd;
      await store.updateClient(clientId, { description: 'meanwhile' }, now);
      return realAdd(clientId, group, now, condition);
    };
    expect((await admin.put(`/admin/clients/${id}/groups/team`, etag)).status).toBe(412);
    expect((await t.oauth.registry.get(id)).groups).toEqual([]);
  });
});
