// Every documented response of every admin route, produced for real and validated against the OpenAPI document (ajv, JSON Schema 2020-12), so the document cannot drift.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import request from 'supertest';
import { StoreError } from '../../lib/store/types';
import { buildApp, type TestApp } from '../helpers';

type Json = Record<string, any>;
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
const METHODS: readonly Method[] = ['get', 'post', 'put', 'patch', 'delete'];

let t: TestApp;
let server: Server;
let base: string;
let adminToken: string;
let readerToken: string;
let adminId: string;
let adminSecret: string;
let doc: Json;
let ajv: Ajv2020;
/** `METHOD template status` of every response produced and validated. */
const covered = new Set<string>();

beforeAll(async () => {
  t = await buildApp({ signingAlgorithm: 'ES256', tokenFormat: 'jwt' });
  t.app.use('/admin', t.oauth.adminRouter());
  server = t.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const admin = await t.createClient('oauth:admin', 'admin tool');
  adminId = admin.id;
  adminSecret = admin.secret;
  adminToken = await t.tokenFor(admin.id, admin.secret);
  const reader = await t.createClient('read', 'reader');
  readerToken = await t.tokenFor(reader.id, reader.secret);
  doc = (await request(base).get('/admin/openapi.json').auth(adminToken, { type: 'bearer' })).body as Json;
  // OpenAPI 3.1 schemas are JSON Schema 2020-12; the document itself is the schema registry.
  ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, 'admin');
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await t.close();
});

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** Validates a response against the document: the status must be documented, the body and the documented headers must match. */
function check(method: Method, template: string, res: request.Response): void {
  const operation = doc.paths[template]?.[method] as Json | undefined;
  expect({ operation: `${method.toUpperCase()} ${template}`, documented: operation !== undefined }).toEqual({
    operation: `${method.toUpperCase()} ${template}`,
    documented: true,
  });
  const status = String(res.status);
  const response = operation?.responses[status] as Json | undefined;
  expect({ route: `${method.toUpperCase()} ${template}`, status, documented: response !== undefined }).toEqual({
    route: `${method.toUpperCase()} ${template}`,
    status,
    documented: true,
  });
  if (!response) return;
  const media = response.content?.['application/json'];
  if (media) {
    const validate = ajv.getSchema(`admin#/${pointer('paths', template, method, 'responses', status, 'content', 'application/json', 'schema')}`);
    expect(validate).toBeDefined();
    const valid = validate!(res.body);
    expect({ route: `${method.toUpperCase()} ${template} ${status}`, errors: valid ? null : validate!.errors }).toEqual({
      route: `${method.toUpperCase()} ${template} ${status}`,
      errors: null,
    });
  } else {
    expect(res.text ?? '').toBe('');
  }
  for (const header of ['ETag', 'Allow', 'WWW-Authenticate']) {
    if (response.headers?.[header]) expect({ header, value: res.headers[header.toLowerCase()] }).toEqual({ header, value: expect.any(String) });
  }
  covered.add(`${method.toUpperCase()} ${template} ${status}`);
}

/** One request against a concrete path, validated as the operation at `template`. */
async function call(
  method: Method,
  template: string,
  path: string,
  options: { body?: object; token?: string | null; headers?: Record<string, string>; raw?: [string, string] } = {},
): Promise<request.Response> {
  let req = request(base)[method](`/admin${path}`);
  const token = options.token === undefined ? adminToken : options.token;
  if (token !== null) req = req.auth(token, { type: 'bearer' });
  for (const [name, value] of Object.entries(options.headers ?? {})) req = req.set(name, value);
  const res = options.raw
    ? await req.set('Content-Type', options.raw[0]).send(options.raw[1])
    : options.body === undefined
      ? await req
      : await req.send(options.body);
  check(method, template, res);
  return res;
}

const newClient = async (scope = 'read') => (await t.oauth.registry.create({ name: 'svc', scopes: scope })).client.id;
const etagOf = async (id: string) => `"${(await t.oauth.registry.get(id)).version}"`;

/** Fills a template's path parameters with values that exist. */
async function concrete(template: string): Promise<string> {
  const id = await newClient();
  if (!(await t.oauth.groups.list()).some((g) => g.name === 'common')) await t.oauth.groups.create({ name: 'common', scopes: 'x' });
  const kid = (await t.oauth.server.keys.getSigner()).kid;
  return template
    .replace('{client_id}', id)
    .replace('{name}', 'common')
    .replace('{group}', 'common')
    .replace('{kid}', kid)
    .replace('{jti}', 'some-jti');
}

describe('admin API responses match the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document whose schemas compile', () => {
    expect(doc.openapi).toBe('3.1.0');
    for (const name of Object.keys(doc.components.schemas)) {
      expect(ajv.getSchema(`admin#/${pointer('components', 'schemas', name)}`)).toBeDefined();
    }
  });

  it('documents the guard refusals of every operation: 401 without or with a bad token, 403 without the admin scope (RFC 6750 §3.1)', async () => {
    for (const [template, item] of Object.entries(doc.paths as Json)) {
      for (const method of METHODS.filter((m) => item[m])) {
        const path = await concrete(template);
        const none = await call(method, template, path, { token: null });
        expect(none.status).toBe(401);
        expect(none.body).toEqual({ error_description: 'a bearer access token is required' });
        expect((await call(method, template, path, { token: 'not-a-token' })).body.error).toBe('invalid_token');
        expect((await call(method, template, path, { token: readerToken })).status).toBe(403);
      }
    }
  });

  it('documents 415 for a body that is not JSON and 413 for one over 16 KiB, on every operation', async () => {
    for (const [template, item] of Object.entries(doc.paths as Json)) {
      for (const method of METHODS.filter((m) => item[m])) {
        const path = await concrete(template);
        expect((await call(method, template, path, { raw: ['text/plain', 'x'] })).status).toBe(415);
        expect((await call(method, template, path, { raw: ['application/json', JSON.stringify({ a: 'x'.repeat(17 * 1024) })] })).status).toBe(413);
      }
    }
  });

  it('answers a method a path does not support with 405 and Allow (RFC 9110 §15.5.6), on every path', async () => {
    for (const [template, item] of Object.entries(doc.paths as Json)) {
      const allowed = METHODS.filter((m) => item[m]);
      const wrong = METHODS.find((m) => !allowed.includes(m));
      if (!wrong) continue;
      const path = await concrete(template);
      const res = await request(base)[wrong](`/admin${path}`).auth(adminToken, { type: 'bearer' });
      expect(res.status).toBe(405);
      const expected = allowed.map((m) => m.toUpperCase());
      expect(res.headers.allow?.split(', ').filter((m: string) => m !== 'HEAD').sort()).toEqual(expected.sort());
      // Validated as any operation of the path would document it.
      check(allowed[0] as Method, template, res);
      for (const m of allowed) covered.add(`${m.toUpperCase()} ${template} 405`);
    }
  });

  it('documents the answers of the client routes', async () => {
    // list, paged
    await newClient();
    const page = await call('get', '/clients', '/clients?limit=1');
    expect(page.status).toBe(200);
    expect(page.headers.link).toMatch(/; rel="next"$/);
    expect((await call('get', '/clients', '/clients?limit=0')).status).toBe(400);
    // create
    expect((await call('post', '/clients', '/clients', { body: { client_name: 'new', scope: 'read', description: 'd', token_lifetime: 60 } })).status).toBe(201);
    expect((await call('post', '/clients', '/clients', { body: {} })).status).toBe(400);
    // show
    const id = await newClient();
    expect((await call('get', '/clients/{client_id}', `/clients/${id}`)).status).toBe(200);
    expect((await call('get', '/clients/{client_id}', '/clients/nope')).status).toBe(404);
    // change
    const T = '/clients/{client_id}';
    expect((await call('patch', T, `/clients/${id}`, { body: { description: 'x' }, headers: { 'If-Match': await etagOf(id) } })).status).toBe(200);
    expect((await call('patch', T, `/clients/${id}`, { body: {} })).status).toBe(400);
    expect((await call('patch', T, '/clients/nope', { body: { description: 'x' } })).status).toBe(404);
    expect((await call('patch', T, `/clients/${adminId}`, { body: { enabled: false } })).status).toBe(409);
    expect((await call('patch', T, `/clients/${id}`, { body: { description: 'y' }, headers: { 'If-Match': '"999"' } })).status).toBe(412);
    // delete
    expect((await call('delete', T, `/clients/${id}?force=maybe`)).status).toBe(400);
    expect((await call('delete', T, `/clients/${id}`, { headers: { 'If-Match': '"999"' } })).status).toBe(412);
    expect((await call('delete', T, `/clients/${adminId}`)).status).toBe(409);
    expect((await call('delete', T, `/clients/${id}`)).status).toBe(204);
    expect((await call('delete', T, `/clients/${id}`)).status).toBe(404);
    // rotate
    const R = '/clients/{client_id}/rotate-secret';
    const other = await newClient();
    expect((await call('post', R, `/clients/${other}/rotate-secret`, { body: { grace_seconds: 60 } })).status).toBe(200);
    expect((await call('post', R, `/clients/${other}/rotate-secret`, { body: { grace_seconds: -1 } })).status).toBe(400);
    expect((await call('post', R, '/clients/nope/rotate-secret')).status).toBe(404);
    expect((await call('post', R, `/clients/${other}/rotate-secret`, { headers: { 'If-Match': '"999"' } })).status).toBe(412);
    expect((await call('post', R, `/clients/${other}/rotate-secret`, { headers: { 'If-Match': await etagOf(other) } })).status).toBe(200);
    // disable and enable
    const D = '/clients/{client_id}/disable';
    const E = '/clients/{client_id}/enable';
    expect((await call('post', D, `/clients/${other}/disable`)).status).toBe(200);
    expect((await call('post', D, `/clients/${other}/disable?force=x`)).status).toBe(400);
    expect((await call('post', D, '/clients/nope/disable')).status).toBe(404);
    expect((await call('post', D, `/clients/${adminId}/disable`)).status).toBe(409);
    expect((await call('post', D, `/clients/${other}/disable`, { headers: { 'If-Match': '"999"' } })).status).toBe(412);
    expect((await call('post', E, `/clients/${other}/enable`)).status).toBe(200);
    expect((await call('post', E, `/clients/${other}/enable`, { body: { x: 1 } })).status).toBe(400);
    expect((await call('post', E, '/clients/nope/enable')).status).toBe(404);
    expect((await call('post', E, `/clients/${other}/enable`, { headers: { 'If-Match': '"999"' } })).status).toBe(412);
  });

  it('documents the answers of the token routes', async () => {
    const { client } = await t.oauth.registry.create({ name: 'ref', scopes: 'read', tokenFormat: 'reference' });
    const L = '/clients/{client_id}/tokens';
    const J = '/clients/{client_id}/tokens/{jti}';
    expect((await call('get', L, `/clients/${client.id}/tokens`)).status).toBe(200);
    expect((await call('get', L, `/clients/${client.id}/tokens?limit=0`)).status).toBe(400);
    expect((await call('get', L, '/clients/nope/tokens')).status).toBe(404);
    expect((await call('delete', J, `/clients/${client.id}/tokens/abc`)).status).toBe(204);
    expect((await call('delete', J, `/clients/${client.id}/tokens/a%20b`)).status).toBe(400);
    expect((await call('delete', J, '/clients/nope/tokens/abc')).status).toBe(404);
  });

  it('documents the answers of the group and membership routes', async () => {
    const id = await newClient();
    const M = '/clients/{client_id}/groups/{group}';
    expect((await call('post', '/groups', '/groups', { body: { name: 'team', scope: 'x', audiences: ['https://api.example.com'] } })).status).toBe(201);
    expect((await call('post', '/groups', '/groups', { body: { name: 'team' } })).status).toBe(409);
    expect((await call('post', '/groups', '/groups', { body: { name: 'bad name' } })).status).toBe(400);
    expect((await call('get', '/groups', '/groups')).status).toBe(200);
    expect((await call('put', M, `/clients/${id}/groups/team`)).status).toBe(200);
    expect((await call('put', M, `/clients/${id}/groups/bad%20name`)).status).toBe(400);
    expect((await call('put', M, '/clients/nope/groups/team')).status).toBe(404);
    expect((await call('put', M, `/clients/${id}/groups/team`, { headers: { 'If-Match': '"999"' } })).status).toBe(412);
    const G = '/groups/{name}';
    expect((await call('get', G, '/groups/team')).status).toBe(200);
    expect((await call('get', G, '/groups/none')).status).toBe(404);
    expect((await call('patch', G, '/groups/team', { body: { scope: 'y' } })).status).toBe(200);
    expect((await call('patch', G, '/groups/team', { body: { audiences: ['a#frag'] } })).status).toBe(400);
    expect((await call('patch', G, '/groups/none', { body: { scope: 'y' } })).status).toBe(404);
    expect((await call('patch', G, '/groups/team', { body: { scope: 'z' }, headers: { 'If-Match': '"999"' } })).status).toBe(412);
    expect((await call('delete', G, '/groups/team', { headers: { 'If-Match': '"999"' } })).status).toBe(412);
    expect((await call('delete', G, '/groups/team')).status).toBe(409);
    expect((await call('delete', G, '/groups/team?force=x')).status).toBe(400);
    expect((await call('delete', M, `/clients/${id}/groups/team`, { headers: { 'If-Match': '"999"' } })).status).toBe(412);
    expect((await call('delete', M, `/clients/${id}/groups/team`)).status).toBe(200);
    expect((await call('delete', M, `/clients/${id}/groups/team`)).status).toBe(404);
    expect((await call('delete', G, '/groups/team')).status).toBe(204);
    expect((await call('delete', G, '/groups/team')).status).toBe(404);
  });

  it('documents the answers of the key routes and the document itself', async () => {
    expect((await call('get', '/keys', '/keys')).status).toBe(200);
    expect((await call('post', '/keys/rotate', '/keys/rotate')).status).toBe(200);
    expect((await call('post', '/keys/rotate', '/keys/rotate', { body: { x: 1 } })).status).toBe(400);
    const old = (await t.oauth.server.store.listSigningKeys(Date.now())).find((k) => !k.active);
    expect(old).toBeDefined();
    expect((await call('post', '/keys/{kid}/retire', `/keys/${old!.kid}/retire`)).status).toBe(200);
    // The admin token was signed by the key just retired: it verifies nothing now.
    expect((await request(base).get('/admin/keys').auth(adminToken, { type: 'bearer' })).status).toBe(401);
    adminToken = await t.tokenFor(adminId, adminSecret);
    expect((await call('post', '/keys/{kid}/retire', `/keys/${old!.kid}/retire`, { body: { x: 1 } })).status).toBe(400);
    expect((await call('post', '/keys/{kid}/retire', `/keys/${old!.kid}/retire`)).status).toBe(404);
    expect((await call('get', '/openapi.json', '/openapi.json')).status).toBe(200);
  });

  it('documents 503 (database busy) and 500 (anything else, body {"error":"server_error"} only)', async () => {
    const store = t.oauth.server.store;
    const spy = jest.spyOn(store, 'listClientsPage');
    spy.mockRejectedValueOnce(new StoreError('busy', 'the database is locked by another process; try again'));
    const busy = await call('get', '/clients', '/clients');
    expect(busy.status).toBe(503);
    expect(busy.headers['retry-after']).toBeDefined();
    spy.mockRejectedValueOnce(new Error('boom with a secret inside'));
    const failed = await call('get', '/clients', '/clients');
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ error: 'server_error' });
    spy.mockRestore();
  });

  it('produced every documented response of every operation (500 and 503 on one route: their cause is the store, not the route)', () => {
    const missing: string[] = [];
    for (const [template, item] of Object.entries(doc.paths as Json)) {
      for (const method of METHODS.filter((m) => item[m])) {
        for (const status of Object.keys(item[method].responses)) {
          const key = `${method.toUpperCase()} ${template} ${status}`;
          if ((status === '500' || status === '503') && key !== `GET /clients ${status}`) continue;
          if (!covered.has(key)) missing.push(key);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
