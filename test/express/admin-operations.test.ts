// The admin API as an operator uses it (issue 18): audiences as RFC 8707 resources, If-Match, 405, paged and filtered lists, per-client settings, guard rails, operator revocation, keys.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { AuditEvent } from '../../lib/core';
import { buildApp, type TestApp } from '../helpers';

let t: TestApp;
let server: Server;
let base: string;
let adminToken: string;
let adminId: string;

beforeEach(async () => {
  t = await buildApp({ signingAlgorithm: 'ES256', accessTokenLifetime: 600 });
  t.app.use('/admin', t.oauth.adminRouter());
  t.app.get('/api/orders', t.oauth.requireScope('read'), (_req, res) => res.json({ ok: true }));
  server = t.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const admin = await t.createClient('oauth:admin', 'admin tool');
  adminId = admin.id;
  adminToken = await t.tokenFor(admin.id, admin.secret);
});
afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  await t.close();
});

const admin = {
  get: (path: string) => request(base).get(path).auth(adminToken, { type: 'bearer' }),
  post: (path: string, body?: object) => {
    const req = request(base).post(path).auth(adminToken, { type: 'bearer' });
    return body === undefined ? req : req.send(body);
  },
  patch: (path: string, body: object) => request(base).patch(path).auth(adminToken, { type: 'bearer' }).send(body),
  put: (path: string) => request(base).put(path).auth(adminToken, { type: 'bearer' }),
  delete: (path: string) => request(base).delete(path).auth(adminToken, { type: 'bearer' }),
};

function tokenRequest(id: string, secret: string, params: Record<string, string> = {}) {
  return request(base).post('/oauth/token').auth(id, secret).type('form').send({ grant_type: 'client_credentials', ...params });
}

describe('audiences are RFC 8707 resource indicators (absolute URI, no fragment)', () => {
  it.each([['a#frag'], ['https://api.example.com/x#frag'], ['has"quote'], ['orders'], ['']])(
    'refuses the audience %j on create and change with 400 naming the field, storing nothing (RFC 8707 §2)',
    async (audience) => {
      const created = await admin.post('/admin/clients', { client_name: 'svc', audiences: [audience] });
      expect(created.status).toBe(400);
      expect(created.body).toMatchObject({ error: 'invalid_request', field: 'audiences' });
      const { id } = await t.createClient('read');
      const changed = await admin.patch(`/admin/clients/${id}`, { audiences: [audience] });
      expect(changed.status).toBe(400);
      expect((await t.oauth.registry.get(id)).audiences).toEqual([]);
    },
  );

  it('refuses the same resources at the token endpoint with invalid_target, so nothing stored could never be requested', async () => {
    const { id, secret } = await t.createClient('read');
    const res = await tokenRequest(id, secret, { resource: 'has"quote' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_target');
  });

  it('accepts an absolute URI with a query, and a URN', async () => {
    const res = await admin.post('/admin/clients', { client_name: 'svc', audiences: ['https://api.example.com/v1?tenant=a', 'urn:example:orders'] });
    expect(res.status).toBe(201);
    expect(res.body.audiences).toEqual(['https://api.example.com/v1?tenant=a', 'urn:example:orders']);
  });
});

describe('optimistic locking (RFC 9110 §13.1.1 If-Match, §8.8.3 ETag)', () => {
  it('sends the version as a strong ETag on every single-client response', async () => {
    const { id } = await t.createClient('read');
    const res = await admin.get(`/admin/clients/${id}`);
    expect(res.headers.etag).toBe(`"${res.body.version}"`);
  });

  it('refuses a PATCH with a stale If-Match with 412 and changes nothing; the current ETag goes through', async () => {
    const { id } = await t.createClient('read');
    const etag = (await admin.get(`/admin/clients/${id}`)).headers.etag as string;
    const first = await admin.patch(`/admin/clients/${id}`, { client_name: 'first' }).set('If-Match', etag);
    expect(first.status).toBe(200);
    expect(first.headers.etag).not.toBe(etag);
    const stale = await admin.patch(`/admin/clients/${id}`, { client_name: 'second' }).set('If-Match', etag);
    expect(stale.status).toBe(412);
    expect(stale.body.error).toBe('precondition_failed');
    expect((await t.oauth.registry.get(id)).name).toBe('first');
    expect((await admin.patch(`/admin/clients/${id}`, { client_name: 'any' }).set('If-Match', '*')).status).toBe(200);
  });

  it('compares strongly: a weak tag never matches If-Match', async () => {
    const { id } = await t.createClient('read');
    const etag = (await admin.get(`/admin/clients/${id}`)).headers.etag as string;
    expect((await admin.patch(`/admin/clients/${id}`, { client_name: 'x' }).set('If-Match', `W/${etag}`)).status).toBe(412);
  });

  it('refuses a DELETE and a disable with a stale If-Match with 412; the client stays', async () => {
    const { id } = await t.createClient('read');
    const etag = (await admin.get(`/admin/clients/${id}`)).headers.etag as string;
    await admin.patch(`/admin/clients/${id}`, { description: 'changed meanwhile' });
    expect((await admin.delete(`/admin/clients/${id}`).set('If-Match', etag)).status).toBe(412);
    expect((await admin.post(`/admin/clients/${id}/disable`).set('If-Match', etag)).status).toBe(412);
    expect((await t.oauth.registry.get(id)).enabled).toBe(true);
    const current = (await admin.get(`/admin/clients/${id}`)).headers.etag as string;
    expect((await admin.delete(`/admin/clients/${id}`).set('If-Match', current)).status).toBe(204);
  });
});

describe('a wrong method on an admin path', () => {
  it('answers 405 with Allow listing the methods the path supports (RFC 9110 §15.5.6)', async () => {
    const res = await admin.put('/admin/clients');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, POST, HEAD');
    expect(res.body).toEqual({ error: 'method_not_allowed', error_description: 'allowed methods: GET, POST, HEAD' });
    const { id } = await t.createClient('read');
    expect((await admin.put(`/admin/clients/${id}`)).headers.allow).toBe('GET, PATCH, DELETE, HEAD');
  });
});

describe('client lists: cursor pagination and filters', () => {
  it('pages with an opaque cursor and a Link rel="next" until the last page, every client once (RFC 8288)', async () => {
    for (let i = 0; i < 4; i++) await t.createClient('read', `c${i}`);
    const seen: string[] = [];
    let path: string | undefined = '/admin/clients?limit=2';
    let pages = 0;
    while (path !== undefined && pages < 10) {
      const res = await admin.get(path);
      expect(res.status).toBe(200);
      expect(res.body.clients.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.clients.map((c: { client_id: string }) => c.client_id));
      const link = res.headers.link as string | undefined;
      if (res.body.next_cursor) expect(link).toBe(`</admin/clients?limit=2&cursor=${res.body.next_cursor}>; rel="next"`);
      else expect(link).toBeUndefined();
      path = link?.slice(1, link.indexOf('>'));
      pages++;
    }
    const all = (await t.oauth.registry.list()).map((c) => c.id).sort();
    expect(seen).toEqual(all);
    expect(pages).toBe(3);
  });

  it('bounds limit (1 to 1000) and refuses a cursor it did not issue or an unknown parameter with 400', async () => {
    expect((await admin.get('/admin/clients?limit=1001')).body.field).toBe('limit');
    expect((await admin.get('/admin/clients?limit=0')).body.field).toBe('limit');
    expect((await admin.get('/admin/clients?cursor=garbage')).body.field).toBe('cursor');
    expect((await admin.get('/admin/clients?client=x')).body.field).toBe('client');
  });

  it('filters by exact name, group, enabled and scope (direct or through a group), combined', async () => {
    const a = await t.createClient('read', 'billing');
    const b = await t.createClient('write', 'billing');
    const c = await t.createClient('read', 'shipping');
    await t.oauth.groups.create({ name: 'ops', scopes: 'ops:deploy' });
    await t.oauth.groups.addClient(c.id, 'ops');
    await t.oauth.registry.setEnabled(b.id, false);
    const ids = async (query: string) =>
      ((await admin.get(`/admin/clients?${query}`)).body.clients as { client_id: string }[]).map((x) => x.client_id).sort();
    expect(await ids('client_name=billing')).toEqual([a.id, b.id].sort());
    expect(await ids('group=ops')).toEqual([c.id]);
    expect(await ids('enabled=false')).toEqual([b.id]);
    expect(await ids('scope=read')).toEqual([a.id, c.id].sort());
    expect(await ids('scope=ops:deploy')).toEqual([c.id]);
    expect(await ids('client_name=billing&enabled=true&scope=read')).toEqual([a.id]);
    expect(await ids('client_name=nobody')).toEqual([]);
  });
});

describe('per-client settings', () => {
  it('gives a client its own token lifetime, capped by the instance accessTokenLifetime', async () => {
    const created = await admin.post('/admin/clients', { client_name: 'short', scope: 'read', token_lifetime: 60, description: 'batch job' });
    expect(created.body).toMatchObject({ token_lifetime: 60, description: 'batch job' });
    const res = await tokenRequest(created.body.client_id, created.body.client_secret);
    expect(res.body.expires_in).toBe(60);
    const tooLong = await admin.patch(`/admin/clients/${created.body.client_id}`, { token_lifetime: 601 });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.field).toBe('token_lifetime');
    expect((await admin.patch(`/admin/clients/${created.body.client_id}`, { token_lifetime: null })).body.token_lifetime).toBeNull();
    expect((await tokenRequest(created.body.client_id, created.body.client_secret)).body.expires_in).toBe(600);
  });

  it('changes token_format after creation: the next token is opaque, and the change is audited', async () => {
    const { id, secret } = await t.createClient('read');
    const events: AuditEvent[] = [];
    t.oauth.events.on('audit', (e: AuditEvent) => events.push(e));
    const res = await admin.patch(`/admin/clients/${id}`, { token_format: 'reference' });
    expect(res.body.token_format).toBe('reference');
    const token = (await tokenRequest(id, secret)).body.access_token as string;
    expect(token.split('.')).not.toHaveLength(3);
    expect(events[0]).toMatchObject({ type: 'client.updated', changes: ['tokenFormat'], before: { tokenFormat: 'jwt' }, after: { tokenFormat: 'reference' } });
    expect((await admin.patch(`/admin/clients/${id}`, { token_format: 'paseto' })).body.field).toBe('token_format');
  });
});

describe('guard rails: the last admin client', () => {
  it('refuses deleting or disabling the last enabled client holding oauth:admin with 409, unless force=true', async () => {
    const del = await admin.delete(`/admin/clients/${adminId}`);
    expect(del.status).toBe(409);
    expect(del.body).toMatchObject({ error: 'conflict', field: 'force' });
    expect((await admin.post(`/admin/clients/${adminId}/disable`)).status).toBe(409);
    expect((await admin.patch(`/admin/clients/${adminId}`, { enabled: false })).status).toBe(409);
    expect((await t.oauth.registry.get(adminId)).enabled).toBe(true);
    expect((await admin.post(`/admin/clients/${adminId}/disable?force=true`)).status).toBe(200);
  });

  it('lets the change through when another enabled client holds the admin scope, through a group too', async () => {
    await t.oauth.groups.create({ name: 'admins', scopes: 'oauth:admin' });
    const other = await t.createClient('read', 'second admin');
    await t.oauth.groups.addClient(other.id, 'admins');
    expect((await admin.delete(`/admin/clients/${adminId}`)).status).toBe(204);
  });
});

describe('operator revocation', () => {
  it("lists a client's live reference tokens (never the token) and revokes one by jti: it stops working at once", async () => {
    const { client, clientSecret } = await t.oauth.registry.create({ name: 'ref', scopes: 'read', tokenFormat: 'reference' });
    const token = (await tokenRequest(client.id, clientSecret)).body.access_token as string;
    const listed = await admin.get(`/admin/clients/${client.id}/tokens`);
    expect(listed.status).toBe(200);
    expect(listed.body.tokens).toHaveLength(1);
    expect(JSON.stringify(listed.body)).not.toContain(token);
    const { jti } = listed.body.tokens[0];
    expect((await request(base).get('/api/orders').auth(token, { type: 'bearer' })).status).toBe(200);
    const events: AuditEvent[] = [];
    t.oauth.events.on('audit', (e: AuditEvent) => events.push(e));
    expect((await admin.delete(`/admin/clients/${client.id}/tokens/${jti}`)).status).toBe(204);
    expect((await request(base).get('/api/orders').auth(token, { type: 'bearer' })).status).toBe(401);
    expect(events).toEqual([
      expect.objectContaining({ type: 'token.revoked', clientId: client.id, jti, actor: { via: 'admin_api', clientId: adminId, address: '127.0.0.1' } }),
    ]);
  });

  it("revokes any client's JWT by jti (RFC 7009 lets only the owner revoke)", async () => {
    const { id, secret } = await t.createClient('read');
    const token = (await tokenRequest(id, secret)).body.access_token as string;
    const { jti } = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { jti: string };
    expect((await admin.delete(`/admin/clients/${id}/tokens/${jti}`)).status).toBe(204);
    expect((await request(base).get('/api/orders').auth(token, { type: 'bearer' })).status).toBe(401);
  });

  it("refuses revoking a reference token through another client's path", async () => {
    const { client, clientSecret } = await t.oauth.registry.create({ name: 'ref', scopes: 'read', tokenFormat: 'reference' });
    await tokenRequest(client.id, clientSecret);
    const { jti } = (await admin.get(`/admin/clients/${client.id}/tokens`)).body.tokens[0];
    const res = await admin.delete(`/admin/clients/${adminId}/tokens/${jti}`);
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('jti');
  });
});

describe('signing keys in the admin API', () => {
  it('lists the keys without private material and rotates: the new key signs, the old one stays published', async () => {
    const before = (await admin.get('/admin/keys')).body.keys as { kid: string; active: boolean }[];
    expect(before).toHaveLength(1);
    expect(JSON.stringify(before)).not.toMatch(/PRIVATE KEY|"d":/);
    const rotated = await admin.post('/admin/keys/rotate');
    expect(rotated.status).toBe(200);
    expect(rotated.body.previous_kid).toBe(before[0]?.kid);
    const after = (await admin.get('/admin/keys')).body.keys as { kid: string; active: boolean }[];
    expect(after.map((k) => [k.kid, k.active])).toEqual([[rotated.body.kid, true], [before[0]?.kid, false]]);
    expect((await request(base).get('/api/items').auth(adminToken, { type: 'bearer' })).status).toBe(403);
  });
});
