// The admin API: every route and error, the admin scope guard, secrets shown once and never a hash.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { AuditEvent } from '../../lib/core';
import Database from 'better-sqlite3';
import { buildApp, fakeClock, type TestApp } from '../helpers';
import { postUnfinished } from '../remote-helpers';

let t: TestApp;
let server: Server;
let base: string;
let adminToken: string;
let adminId: string;

beforeEach(async () => {
  // ES256 keys are generated in a fraction of RS256's time; the admin API does not depend on the algorithm.
  t = await buildApp({ signingAlgorithm: 'ES256' });
  t.app.use('/admin', t.oauth.adminRouter());
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

const as = (token: string) => ({
  get: (path: string) => request(base).get(path).auth(token, { type: 'bearer' }),
  post: (path: string, body?: object | string) => {
    const req = request(base).post(path).auth(token, { type: 'bearer' });
    return body === undefined ? req : req.send(body);
  },
  patch: (path: string, body: object | string) => request(base).patch(path).auth(token, { type: 'bearer' }).send(body),
  put: (path: string) => request(base).put(path).auth(token, { type: 'bearer' }),
  delete: (path: string) => request(base).delete(path).auth(token, { type: 'bearer' }),
});
const admin = () => as(adminToken);

function tokenStatus(id: string, secret: string, scope?: string) {
  return request(base)
    .post('/oauth/token')
    .auth(id, secret)
    .type('form')
    .send({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) });
}

const CLIENT_FIELDS = [
  'audiences', 'client_id', 'client_name', 'created_at', 'description', 'dpop_bound_access_tokens', 'effective_audiences', 'effective_scope', 'enabled',
  'grant_types', 'groups', 'jwks', 'jwks_uri', 'scope', 'secrets', 'token_format', 'token_lifetime', 'updated_at', 'version',
];

describe('admin API guard', () => {
  it('answers a request without a token with 401 and a bare Bearer challenge (RFC 6750 §3.1)', async () => {
    const res = await request(base).get('/admin/clients');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="oauth"');
    expect(res.body).toEqual({ error_description: 'a bearer access token is required' });
  });

  it('refuses a client without the oauth:admin scope with 403 insufficient_scope (RFC 6750 §3.1)', async () => {
    const reader = await t.createClient('read');
    const token = await t.tokenFor(reader.id, reader.secret);
    const res = await as(token).get('/admin/clients');
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'insufficient_scope', error_description: 'this resource needs the scopes oauth:admin' });
    expect(res.headers['www-authenticate']).toContain('scope="oauth:admin"');
    const write = await as(token).post('/admin/clients', { client_name: 'sneaky' });
    expect(write.status).toBe(403);
    expect((await t.oauth.registry.list()).map((c) => c.name)).toEqual(['admin tool', 'test client']);
  });

  it('guards every route, the OpenAPI document included: 401 without a token, 403 without the scope, and nothing changes', async () => {
    const { id, secret } = await t.createClient('read');
    await t.oauth.groups.create({ name: 'g', scopes: 'x' });
    const reader = await t.tokenFor(id, secret);
    // Every route the router defines (read from the router itself, so a route added later is covered too).
    type Layer = { route?: { path: string; methods: Record<string, boolean> } };
    const routes = (t.oauth.adminRouter() as unknown as { stack: Layer[] }).stack
      // `_all` layers answer 405 for the methods a path lacks: not routes of their own.
      .flatMap((layer) => (layer.route ? Object.keys(layer.route.methods).filter((m) => m !== '_all').map((method) => [method, layer.route!.path] as const) : []));
    expect(routes).toHaveLength(21);
    const documented = (await admin().get('/admin/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const documentedCount = Object.values(documented.paths).flatMap((ops) => Object.keys(ops).filter((k) => ['get', 'put', 'post', 'delete', 'patch'].includes(k))).length;
    expect(documentedCount).toBe(routes.length);
    const bodies: Record<string, object> = { post: { client_name: 'x', name: 'h' }, patch: { scope: 'write' } };
    for (const [method, path] of routes) {
      const url = `/admin${path.replace(':id', id).replace(':group', 'g').replace(':name', 'g').replace(':kid', 'k').replace(':jti', 'j')}`;
      const verb = method as 'get' | 'post' | 'patch' | 'put' | 'delete';
      const anonymous = await request(base)[verb](url).send(bodies[method] ?? {});
      expect([method, url, anonymous.status, anonymous.headers['www-authenticate']]).toEqual([method, url, 401, 'Bearer realm="oauth"']);
      const unscoped = await request(base)[verb](url).auth(reader, { type: 'bearer' }).send(bodies[method] ?? {});
      expect([method, url, unscoped.status, unscoped.body.error]).toEqual([method, url, 403, 'insufficient_scope']);
    }
    // Nothing was created, changed, rotated, disabled or deleted.
    expect((await t.oauth.registry.list()).map((c) => c.name).sort()).toEqual(['admin tool', 'test client']);
    expect((await t.oauth.registry.get(id)).scopes).toEqual(['read']);
    expect((await t.oauth.groups.list()).map((g) => g.name)).toEqual(['g']);
    expect((await tokenStatus(id, secret)).status).toBe(200);
  });

  it('enforces a configured scope instead of oauth:admin', async () => {
    t.app.use('/ops', t.oauth.adminRouter({ scope: 'ops:manage' }));
    expect((await admin().get('/ops/clients')).status).toBe(403);
    const ops = await t.createClient('ops:manage');
    expect((await as(await t.tokenFor(ops.id, ops.secret)).get('/ops/clients')).status).toBe(200);
  });

  it('refuses a bad scope option when the router is built', () => {
    expect(() => t.oauth.adminRouter({ scope: 'two scopes' })).toThrow(TypeError);
    expect(() => t.oauth.adminRouter({ scope: '' })).toThrow(TypeError);
  });

  it('answers an unknown admin route with a JSON 404, after the guard', async () => {
    const res = await admin().get('/admin/clients/x/y/z');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'not_found', error_description: 'no admin route GET /admin/clients/x/y/z' });
    expect((await request(base).put('/admin/clients')).status).toBe(401);
  });

  it('leaves the host app\'s other routes alone', async () => {
    const res = await request(base).get('/api/items');
    expect(res.status).toBe(401);
    expect(res.headers['cache-control']).toBeUndefined();
  });
});

describe('admin API: clients', () => {
  it('creates a client, returns its secret once with no-store and a Location, and the secret works', async () => {
    const res = await admin().post('/admin/clients', { client_name: 'orders', scope: 'orders:read orders:write' });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['location']).toBe(`/admin/clients/${res.body.client_id}`);
    expect(Object.keys(res.body).sort()).toEqual([...CLIENT_FIELDS, 'client_secret'].sort());
    expect(res.body).toMatchObject({
      client_name: 'orders',
      scope: 'orders:read orders:write',
      effective_scope: 'orders:read orders:write',
      groups: [],
      grant_types: ['client_credentials'],
      token_format: 'jwt',
      enabled: true,
      secrets: [{ status: 'current', expires_at: null }],
    });
    expect((await tokenStatus(res.body.client_id, res.body.client_secret, 'orders:read')).status).toBe(200);
    const shown = await admin().get(`/admin/clients/${res.body.client_id}`);
    expect(shown.status).toBe(200);
    expect(Object.keys(shown.body).sort()).toEqual(CLIENT_FIELDS);
  });

  it('never returns a secret hash, and lists clients without secrets', async () => {
    await admin().post('/admin/clients', { client_name: 'a', scope: 'x' });
    const res = await admin().get('/admin/clients');
    expect(res.status).toBe(200);
    expect(res.body.clients).toHaveLength(2);
    expect(res.text).not.toMatch(/\$2[aby]\$/);
    expect(res.text).not.toContain('client_secret');
    for (const client of res.body.clients) expect(Object.keys(client).sort()).toEqual(CLIENT_FIELDS);
  });

  it('creates a client in existing groups with their scopes in effective_scope', async () => {
    await t.oauth.groups.create({ name: 'billing', scopes: 'invoices:read' });
    const res = await admin().post('/admin/clients', { client_name: 'b', scope: 'read', groups: ['billing'] });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ scope: 'read', effective_scope: 'read invoices:read', groups: ['billing'] });
  });

  it.each([
    [{}, 'client_name', 'client_name is required'],
    [{ client_name: '' }, 'client_name', 'client_name must be 1 to 200 printable characters'],
    [{ name: 'a' }, 'name', 'unknown field "name"'],
    [{ client_name: 'a', scope: 'ok "bad"' }, 'scope', 'scope: "\\"bad\\"" is not a valid scope (RFC 6749 §3.3 scope-token)'],
    [{ client_name: 'a', scope: ['read'] }, 'scope', 'scope must be a space-delimited string'],
    [{ client_name: 'a', token_format: 'opaque' }, 'token_format', 'token format must be "jwt" or "reference"'],
    [{ client_name: 'a', audiences: 'orders' }, 'audiences', 'audiences must be a list of absolute URIs'],
    [{ client_name: 'a', groups: ['nope'] }, 'groups', 'no group named "nope"'],
    [{ client_name: 'a', secret: 'mine' }, 'secret', 'unknown field "secret"'],
  ])('refuses %j with 400 naming the field and creates nothing', async (body, field, description) => {
    const res = await admin().post('/admin/clients', body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: description, field });
    expect(await t.oauth.registry.list()).toHaveLength(1);
  });

  it('refuses malformed JSON with 400, a non-object with 400, another media type with 415 and a huge body with 413', async () => {
    const bad = await admin().post('/admin/clients').set('Content-Type', 'application/json').send('{"name":');
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: 'invalid_request', error_description: 'the request body is not valid JSON' });
    const array = await admin().post('/admin/clients', [{ client_name: 'a' }]);
    expect(array.status).toBe(400);
    expect(array.body.error_description).toBe('the request body must be a JSON object (Content-Type: application/json)');
    const form = await admin().post('/admin/clients').type('form').send({ client_name: 'a' });
    expect(form.status).toBe(415);
    expect(form.body).toEqual({ error: 'invalid_request', error_description: 'the request body must be application/json' });
    const huge = await admin().post('/admin/clients', { client_name: 'a', scope: 'x'.repeat(20_000) });
    expect(huge.status).toBe(413);
    expect(await t.oauth.registry.list()).toHaveLength(1);
  });

  it('refuses a body over 16 KiB without reading the rest of it', async () => {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` };
    for (const framing of [{ 'content-length': String(64 * 1024 * 1024) }, { 'transfer-encoding': 'chunked' }] as Record<string, string>[]) {
      const answer = await postUnfinished(`${base}/admin/clients`, { ...headers, ...framing }, `{"client_name":"a","scope":"${'x'.repeat(17 * 1024)}`);
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toEqual({ error: 'invalid_request', error_description: 'the request body is too large' });
    }
    expect(await t.oauth.registry.list()).toHaveLength(1);
  });

  it('answers unknown client ids with 404 on every client route', async () => {
    const missing = { error: 'not_found', error_description: 'no client with id "nope"', field: 'client_id' };
    for (const res of [
      await admin().get('/admin/clients/nope'),
      await admin().patch('/admin/clients/nope', { scope: 'read' }),
      await admin().delete('/admin/clients/nope'),
      await admin().post('/admin/clients/nope/rotate-secret', { grace_seconds: 60 }),
      await admin().post('/admin/clients/nope/disable'),
      await admin().post('/admin/clients/nope/enable'),
      await admin().put('/admin/clients/nope/groups/g'),
      await admin().delete('/admin/clients/nope/groups/g'),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body).toEqual(missing);
    }
  });

  it('changes scopes, name and groups; the next token request sees it', async () => {
    const { id, secret } = await t.createClient('read');
    await t.oauth.groups.create({ name: 'g', scopes: 'deploy' });
    const res = await admin().patch(`/admin/clients/${id}`, { client_name: 'renamed', scope: 'write', groups: ['g'] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ client_name: 'renamed', scope: 'write', effective_scope: 'write deploy', groups: ['g'] });
    expect((await tokenStatus(id, secret, 'read')).body.error).toBe('invalid_scope');
    expect((await tokenStatus(id, secret, 'write deploy')).status).toBe(200);
    const cleared = await admin().patch(`/admin/clients/${id}`, { groups: [] });
    expect(cleared.body).toMatchObject({ effective_scope: 'write', groups: [] });
  });

  it('changes a client\'s audiences (RFC 8707); the next token request for that resource sees it', async () => {
    const { id } = await t.createClient('read');
    const res = await admin().patch(`/admin/clients/${id}`, { audiences: ['https://orders.internal'] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ audiences: ['https://orders.internal'] });
    expect((await t.oauth.registry.get(id)).audiences).toEqual(['https://orders.internal']);
    const bad = await admin().patch(`/admin/clients/${id}`, { audiences: 'https://orders.internal' });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('audiences');
  });

  it('refuses an empty or ill-typed change with 400 and changes nothing', async () => {
    const { id } = await t.createClient('read');
    const empty = await admin().patch(`/admin/clients/${id}`, {});
    expect(empty.status).toBe(400);
    expect(empty.body.error_description).toBe('nothing to change: give client_name, scope, audiences, groups, enabled, token_format, description or token_lifetime');
    const typed = await admin().patch(`/admin/clients/${id}`, { scope: 'write', enabled: 'no' });
    expect(typed.status).toBe(400);
    expect(typed.body).toEqual({ error: 'invalid_request', error_description: 'enabled must be true or false', field: 'enabled' });
    const groups = await admin().patch(`/admin/clients/${id}`, { scope: 'write', groups: ['missing'] });
    expect(groups.body.field).toBe('groups');
    expect((await t.oauth.registry.get(id)).scopes).toEqual(['read']);
  });

  it('disables and enables a client; a disabled client gets unauthorized_client', async () => {
    const { id, secret } = await t.createClient('read');
    const off = await admin().post(`/admin/clients/${id}/disable`);
    expect(off.status).toBe(200);
    expect(off.body.enabled).toBe(false);
    expect((await tokenStatus(id, secret)).body).toEqual({ error: 'unauthorized_client', error_description: 'the client is disabled' });
    const on = await admin().post(`/admin/clients/${id}/enable`);
    expect(on.body.enabled).toBe(true);
    expect((await tokenStatus(id, secret)).status).toBe(200);
    const patched = await admin().patch(`/admin/clients/${id}`, { enabled: false });
    expect(patched.body.enabled).toBe(false);
  });

  it('deletes a client with 204; its secret stops working and a second delete is 404', async () => {
    const { id, secret } = await t.createClient('read');
    const res = await admin().delete(`/admin/clients/${id}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect((await tokenStatus(id, secret)).status).toBe(401);
    expect((await admin().delete(`/admin/clients/${id}`)).status).toBe(404);
  });

  it('rotates a secret with a grace period: both secrets work, the response shows when the old one expires', async () => {
    const { id, secret: old } = await t.createClient('read');
    const res = await admin().post(`/admin/clients/${id}/rotate-secret`, { grace_seconds: 3600 });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(typeof res.body.client_secret).toBe('string');
    expect(res.body.secrets).toEqual([
      { status: 'current', created_at: expect.any(String), expires_at: null },
      { status: 'previous', created_at: expect.any(String), expires_at: expect.any(String) },
    ]);
    const expires = Date.parse(res.body.secrets[1].expires_at);
    expect(expires - Date.now()).toBeGreaterThan(3500_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(3600_000);
    expect((await tokenStatus(id, old)).status).toBe(200);
    expect((await tokenStatus(id, res.body.client_secret)).status).toBe(200);
  });

  it('rotates without a body as a grace of 0: the old secret stops at once', async () => {
    const { id, secret: old } = await t.createClient('read');
    const res = await admin().post(`/admin/clients/${id}/rotate-secret`);
    expect(res.status).toBe(200);
    expect(res.body.secrets).toHaveLength(1);
    expect((await tokenStatus(id, old)).status).toBe(401);
    expect((await tokenStatus(id, res.body.client_secret)).status).toBe(200);
  });

  it.each([[-1], [1.5], ['60'], [10 ** 9]])('refuses grace_seconds %j with 400 and keeps the secret', async (grace) => {
    const { id, secret } = await t.createClient('read');
    const res = await admin().post(`/admin/clients/${id}/rotate-secret`, { grace_seconds: grace });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'grace_seconds must be an integer from 0 to 31536000',
      field: 'grace_seconds',
    });
    expect((await tokenStatus(id, secret)).status).toBe(200);
  });

  it('refuses a revoke_tokens that is not a boolean with 400 naming the field, and keeps the secret', async () => {
    const { id, secret } = await t.createClient('read');
    const res = await admin().post(`/admin/clients/${id}/rotate-secret`, { revoke_tokens: 'yes' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'revoke_tokens must be true or false', field: 'revoke_tokens' });
    expect((await tokenStatus(id, secret)).status).toBe(200);
  });

  it('rotates without revoke_tokens and without a grace: the tokens issued so far stop working too; revoke_tokens: false keeps them', async () => {
    // Revocation is by issue time in whole seconds: an injected clock puts the rotation in a later second.
    const clock = fakeClock(Date.now());
    const local = await buildApp({ signingAlgorithm: 'ES256', clock: clock.now });
    try {
      local.app.use('/admin', local.oauth.adminRouter());
      const adminClient = await local.createClient('oauth:admin', 'admin tool');
      const adminBearer = await local.tokenFor(adminClient.id, adminClient.secret);
      const outcome = async (body: object | undefined) => {
        const { id, secret } = await local.createClient('read');
        const token = await local.tokenFor(id, secret);
        clock.advance(2000);
        const rotate = request(local.app).post(`/admin/clients/${id}/rotate-secret`).auth(adminBearer, { type: 'bearer' });
        expect((await (body ? rotate.send(body) : rotate)).status).toBe(200);
        const res = await request(local.app).get('/api/items').auth(token, { type: 'bearer' });
        return [res.status, res.body.error_description];
      };
      const revoked = [401, 'the access token was revoked'];
      const kept = [200, undefined];
      expect(await outcome(undefined)).toEqual(revoked);
      expect(await outcome({ revoke_tokens: false })).toEqual(kept);
      expect(await outcome({ grace_seconds: 3600 })).toEqual(kept);
      expect(await outcome({ grace_seconds: 3600, revoke_tokens: true })).toEqual(revoked);
    } finally {
      await local.close();
    }
  });

  it('answers 503 temporarily_unavailable with Retry-After while another process holds the database, and changes nothing', async () => {
    const locked = await buildApp({ signingAlgorithm: 'ES256', busyTimeout: 20 });
    const other = new Database(locked.database);
    try {
      locked.app.use('/admin', locked.oauth.adminRouter());
      const adminClient = await locked.createClient('oauth:admin', 'admin tool');
      const bearer = await locked.tokenFor(adminClient.id, adminClient.secret);
      other.exec('BEGIN IMMEDIATE');
      const res = await request(locked.app).post('/admin/clients').auth(bearer, { type: 'bearer' }).send({ client_name: 'blocked' });
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: 'the database is busy; try again' });
      other.exec('ROLLBACK');
      expect((await locked.oauth.registry.list()).map((c) => c.name)).toEqual(['admin tool']);
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
      await locked.close();
    }
  });

  it('adds a client to a group and removes it, with 404 for an unknown group or a non-member', async () => {
    const { id } = await t.createClient('read');
    await t.oauth.groups.create({ name: 'g', scopes: 'x' });
    const added = await admin().put(`/admin/clients/${id}/groups/g`);
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ groups: ['g'], effective_scope: 'read x' });
    expect((await admin().put(`/admin/clients/${id}/groups/g`)).status).toBe(200);
    expect((await admin().put(`/admin/clients/${id}/groups/nope`)).body).toEqual({
      error: 'not_found',
      error_description: 'no group named "nope"',
      field: 'group',
    });
    const removed = await admin().delete(`/admin/clients/${id}/groups/g`);
    expect(removed.body).toMatchObject({ groups: [], effective_scope: 'read' });
    expect((await admin().delete(`/admin/clients/${id}/groups/g`)).status).toBe(404);
    expect((await admin().put(`/admin/clients/${id}/groups/bad%20name`)).status).toBe(400);
  });

  it('records audit events for changes made through the API', async () => {
    const events: AuditEvent[] = [];
    t.oauth.events.on('audit', (e: AuditEvent) => events.push(e));
    const created = await admin().post('/admin/clients', { client_name: 'c', scope: 'x' });
    await admin().post(`/admin/clients/${created.body.client_id}/rotate-secret`, { grace_seconds: 60 });
    await admin().post('/admin/groups', { name: 'g' });
    await admin().put(`/admin/clients/${created.body.client_id}/groups/g`);
    expect(events.map((e) => e.type)).toEqual(['client.created', 'client.secret_rotated', 'group.created', 'client.group_added']);
    expect(JSON.stringify(events)).not.toContain(created.body.client_secret);
  });

  it('answers a storage failure with a bare 500 server_error', async () => {
    t.oauth.server.store.close();
    (t.oauth.server.store as unknown as { db: { close(): void } }).db.close();
    const res = await admin().get('/admin/clients');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'server_error' });
  });
});

describe('admin API: groups', () => {
  it('creates a group with 201 and a Location, and lists and shows it', async () => {
    const res = await admin().post('/admin/groups', { name: 'billing', scope: 'invoices:read', audiences: ['https://billing.internal'] });
    expect(res.status).toBe(201);
    expect(res.headers['location']).toBe('/admin/groups/billing');
    expect(res.body).toEqual({
      name: 'billing',
      scope: 'invoices:read',
      audiences: ['https://billing.internal'],
      members: [],
      version: 1,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect((await admin().get('/admin/groups')).body.groups.map((g: { name: string }) => g.name)).toEqual(['billing']);
    expect((await admin().get('/admin/groups/billing')).body.scope).toBe('invoices:read');
  });

  it('answers a duplicate name with 409, a bad name with 400 and an unknown group with 404', async () => {
    await admin().post('/admin/groups', { name: 'g' });
    expect((await admin().post('/admin/groups', { name: 'g' })).body).toEqual({
      error: 'conflict',
      error_description: 'a group named "g" exists already',
      field: 'name',
    });
    const bad = await admin().post('/admin/groups', { name: 'no spaces' });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('name');
    expect((await admin().post('/admin/groups', { name: 'h', scope: 7 })).body.field).toBe('scope');
    expect((await admin().post('/admin/groups', { name: 'h', members: [] })).body.field).toBe('members');
    const missing = { error: 'not_found', error_description: 'no group named "nope"', field: 'name' };
    expect((await admin().get('/admin/groups/nope')).body).toEqual(missing);
    expect((await admin().patch('/admin/groups/nope', { scope: 'x' })).body).toEqual(missing);
    expect((await admin().delete('/admin/groups/nope')).status).toBe(404);
  });

  it('changes a group\'s scopes; members get them on their next token request', async () => {
    const { id, secret } = await t.createClient('read');
    await admin().post('/admin/groups', { name: 'g', scope: 'a' });
    await admin().put(`/admin/clients/${id}/groups/g`);
    const res = await admin().patch('/admin/groups/g', { scope: 'b', audiences: ['urn:example:orders'] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ scope: 'b', audiences: ['urn:example:orders'], members: [id] });
    expect((await tokenStatus(id, secret, 'a')).body.error).toBe('invalid_scope');
    expect((await tokenStatus(id, secret, 'b')).status).toBe(200);
    expect((await admin().patch('/admin/groups/g', {})).status).toBe(400);
    expect((await admin().patch('/admin/groups/g', { audiences: ['a b'] })).body.field).toBe('audiences');
  });

  it('refuses to delete a group with members (409) unless force=true, then the members lose its scopes', async () => {
    const { id, secret } = await t.createClient('read');
    await admin().post('/admin/groups', { name: 'g', scope: 'a' });
    await admin().put(`/admin/clients/${id}/groups/g`);
    const refused = await admin().delete('/admin/groups/g');
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({
      error: 'conflict',
      error_description: 'group "g" still has 1 member(s); remove them first or force the delete',
      field: 'name',
    });
    expect((await admin().delete('/admin/groups/g?force=yes')).body.field).toBe('force');
    expect((await admin().delete('/admin/groups/g?force=true')).status).toBe(204);
    expect((await admin().get(`/admin/clients/${id}`)).body.groups).toEqual([]);
    expect((await tokenStatus(id, secret, 'a')).body.error).toBe('invalid_scope');
  });
});

describe('admin API description', () => {
  it('serves an OpenAPI 3.1 document for the mount path, naming every route and the admin scope', async () => {
    const res = await admin().get('/admin/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(res.body.servers).toEqual([{ url: '/admin' }]);
    expect(Object.keys(res.body.paths).sort()).toEqual([
      '/clients',
      '/clients/{client_id}',
      '/clients/{client_id}/disable',
      '/clients/{client_id}/enable',
      '/clients/{client_id}/groups/{group}',
      '/clients/{client_id}/rotate-secret',
      '/clients/{client_id}/tokens',
      '/clients/{client_id}/tokens/{jti}',
      '/groups',
      '/groups/{name}',
      '/keys',
      '/keys/rotate',
      '/keys/{kid}/retire',
      '/openapi.json',
    ]);
    expect(res.body.components.securitySchemes.oauth2.flows.clientCredentials).toEqual({
      tokenUrl: 'https://auth.test/oauth/token',
      scopes: { 'oauth:admin': 'Administer clients and groups' },
    });
    expect(res.body.security).toEqual([{ oauth2: ['oauth:admin'] }]);
    const refs = [...JSON.stringify(res.body).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1] as string);
    expect(refs.length).toBeGreaterThan(10);
    for (const name of new Set(refs)) expect(Object.keys(res.body.components.schemas)).toContain(name);
  });

  it('documents each route with its methods, and the guard, body-limit and locked-database answers of every operation', async () => {
    const doc = (await admin().get('/admin/openapi.json')).body as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    const HTTP = ['get', 'put', 'post', 'delete', 'patch'];
    const methods = Object.fromEntries(Object.entries(doc.paths).map(([path, ops]) => [path, Object.keys(ops).filter((k) => HTTP.includes(k)).sort()]));
    expect(methods).toEqual({
      '/clients': ['get', 'post'],
      '/clients/{client_id}': ['delete', 'get', 'patch'],
      '/clients/{client_id}/disable': ['post'],
      '/clients/{client_id}/enable': ['post'],
      '/clients/{client_id}/groups/{group}': ['delete', 'put'],
      '/clients/{client_id}/rotate-secret': ['post'],
      '/clients/{client_id}/tokens': ['get'],
      '/clients/{client_id}/tokens/{jti}': ['delete'],
      '/groups': ['get', 'post'],
      '/groups/{name}': ['delete', 'get', 'patch'],
      '/keys': ['get'],
      '/keys/rotate': ['post'],
      '/keys/{kid}/retire': ['post'],
      '/openapi.json': ['get'],
    });
    for (const ops of Object.values(doc.paths)) {
      for (const [method, operation] of Object.entries(ops)) if (HTTP.includes(method)) expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['401', '403', '503']));
    }
  });

  it('names the token endpoint under the path of an issuer that has one (RFC 8414 §3.1)', async () => {
    const tenant = await buildApp({ signingAlgorithm: 'ES256', issuer: 'https://auth.test/tenant' });
    try {
      tenant.app.use('/admin', tenant.oauth.adminRouter());
      const adminClient = await tenant.createClient('oauth:admin', 'admin tool');
      const bearer = await tenant.tokenFor(adminClient.id, adminClient.secret);
      const doc = await request(tenant.app).get('/admin/openapi.json').auth(bearer, { type: 'bearer' });
      expect(doc.body.components.securitySchemes.oauth2.flows.clientCredentials.tokenUrl).toBe('https://auth.test/tenant/oauth/token');
    } finally {
      await tenant.close();
    }
  });

  it('describes exactly the fields the API returns for clients and groups', async () => {
    const doc = (await admin().get('/admin/openapi.json')).body;
    const client = (await admin().get('/admin/clients')).body.clients[0];
    expect(Object.keys(doc.components.schemas.ClientFields.properties).sort()).toEqual(Object.keys(client).sort());
    expect([...doc.components.schemas.ClientFields.required].sort()).toEqual(Object.keys(client).sort());
    const group = (await admin().post('/admin/groups', { name: 'g' })).body;
    expect(Object.keys(doc.components.schemas.Group.properties).sort()).toEqual(Object.keys(group).sort());
    expect(Object.keys(doc.components.schemas.NewClient.properties).sort()).toEqual([
      'audiences', 'client_name', 'description', 'dpop_bound_access_tokens', 'groups', 'jwks', 'jwks_uri', 'scope', 'token_format', 'token_lifetime',
    ]);
  });
});

describe('admin API on Express 4', () => {
  it('serves the same routes and errors in an Express 4 app', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const express4 = require('express4') as typeof import('express');
    const app4 = express4();
    app4.use('/admin', t.oauth.adminRouter());
    const created = await request(app4).post('/admin/groups').auth(adminToken, { type: 'bearer' }).send({ name: 'g', scope: 'x' });
    expect(created.status).toBe(201);
    const missing = await request(app4).get('/admin/clients/nope').auth(adminToken, { type: 'bearer' });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: 'not_found', error_description: 'no client with id "nope"', field: 'client_id' });
    const empty = await request(app4).post('/admin/clients').auth(adminToken, { type: 'bearer' });
    expect(empty.body).toEqual({ error: 'invalid_request', error_description: 'client_name is required', field: 'client_name' });
  });
});

describe('admin API writes are atomic: one request, one transaction, one audit event', () => {
  /** A group the router's pre-check sees, deleted before the change is stored (a concurrent delete). */
  function groupVanishesBeforeTheWrite(name: string) {
    const real = t.oauth.groups.get.bind(t.oauth.groups);
    t.oauth.groups.get = async (n: string) =>
      n === name ? { name, scopes: [], audiences: [], members: [], version: 1, createdAt: 0, updatedAt: 0 } : real(n);
  }

  it('PATCH /clients/:id with several fields changes all of them or none, when the last part fails', async () => {
    const { id } = await t.createClient('read', 'before');
    groupVanishesBeforeTheWrite('gone');
    const res = await admin().patch(`/admin/clients/${id}`, { client_name: 'after', scope: 'read write', groups: ['gone'] });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'no group named "gone"', field: 'groups' });
    const client = await t.oauth.registry.get(id);
    expect([client.name, client.scopes]).toEqual(['before', ['read']]);
  });

  it('PATCH /clients/:id records one client.updated event naming every changed field, its actor, old and new values', async () => {
    const { id } = await t.createClient('read');
    await t.oauth.groups.create({ name: 'g', scopes: 'x' });
    const events: AuditEvent[] = [];
    t.oauth.events.on('audit', (e: AuditEvent) => events.push(e));
    const res = await admin().patch(`/admin/clients/${id}`, { client_name: 'renamed', scope: 'read write', groups: ['g'], enabled: false });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ client_name: 'renamed', scope: 'read write', groups: ['g'], enabled: false });
    expect(events).toEqual([
      {
        type: 'client.updated',
        time: expect.any(Number),
        clientId: id,
        changes: ['name', 'scopes', 'groups', 'enabled'],
        enabled: false,
        before: { name: 'test client', scopes: ['read'], groups: [], enabled: true },
        after: { name: 'renamed', scopes: ['read', 'write'], groups: ['g'], enabled: false },
        actor: { via: 'admin_api', clientId: adminId, address: '127.0.0.1' },
      },
    ]);
  });

  it('POST /clients with groups creates nothing when a group cannot be joined: no client whose secret nobody saw', async () => {
    groupVanishesBeforeTheWrite('gone');
    const before = (await t.oauth.registry.list()).length;
    const res = await admin().post('/admin/clients', { client_name: 'orphan', scope: 'read', groups: ['gone'] });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'no group named "gone"', field: 'groups' });
    expect(await t.oauth.registry.list()).toHaveLength(before);
  });

  it('POST /clients with groups records one client.created event with the groups', async () => {
    await t.oauth.groups.create({ name: 'g', scopes: 'x' });
    const events: AuditEvent[] = [];
    t.oauth.events.on('audit', (e: AuditEvent) => events.push(e));
    const res = await admin().post('/admin/clients', { client_name: 'member', scope: 'read', groups: ['g'] });
    expect(res.status).toBe(201);
    expect(res.body.groups).toEqual(['g']);
    expect(events).toEqual([
      {
        type: 'client.created',
        time: expect.any(Number),
        clientId: res.body.client_id,
        name: 'member',
        scopes: ['read'],
        groups: ['g'],
        actor: { via: 'admin_api', clientId: adminId, address: '127.0.0.1' },
      },
    ]);
  });
});

describe('admin API: private_key_jwt and DPoP clients (RFC 7591 §2, RFC 9449 §5.2)', () => {
  const jwk = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k1' };

  it('registers a client with jwks and returns no secret; PATCH replaces, moves to jwks_uri and removes the keys', async () => {
    const created = await admin().post('/admin/clients', { client_name: 'keyed', scope: 'read', jwks: { keys: [jwk] }, dpop_bound_access_tokens: true });
    expect(created.status).toBe(201);
    expect(created.body).not.toHaveProperty('client_secret');
    expect(created.body).toMatchObject({ secrets: [], jwks: { keys: [jwk] }, jwks_uri: null, dpop_bound_access_tokens: true });
    const id = created.body.client_id as string;
    const moved = await admin().patch(`/admin/clients/${id}`, { jwks_uri: 'https://keyed.example/jwks.json', dpop_bound_access_tokens: false });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ jwks: null, jwks_uri: 'https://keyed.example/jwks.json', dpop_bound_access_tokens: false });
    const removed = await admin().patch(`/admin/clients/${id}`, { jwks: null });
    expect(removed.body).toMatchObject({ jwks: null, jwks_uri: null });
  });

  it('refuses private keys, both jwks and jwks_uri, and an http jwks_uri with 400 naming the field', async () => {
    const priv = await admin().post('/admin/clients', { client_name: 'x', jwks: { keys: [{ ...jwk, d: 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI' }] } });
    expect(priv.status).toBe(400);
    expect(priv.body.error_description).toMatch(/public/);
    const both = await admin().post('/admin/clients', { client_name: 'x', jwks: { keys: [jwk] }, jwks_uri: 'https://x.example/jwks' });
    expect(both.status).toBe(400);
    const http = await admin().post('/admin/clients', { client_name: 'x', jwks_uri: 'http://x.example/jwks' });
    expect(http.status).toBe(400);
    expect((await admin().get('/admin/clients')).body.clients.map((c: { client_name: string }) => c.client_name)).not.toContain('x');
  });
});
