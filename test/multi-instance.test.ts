// Two server processes on one PostgreSQL schema: a client disabled through one, and a token revoked through one, are refused by the other within one second (LISTEN/NOTIFY deltas).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import request from 'supertest';
import { ClientRegistry } from '../lib/core';
import { freshSchema, openPgStore, pgAvailable, PG_URL } from './support/stores';

const available = pgAvailable();
const describePg = available ? describe : describe.skip;
const FIXTURE = join(__dirname, 'fixtures', 'pg-instance.js');
const GRANT = { grant_type: 'client_credentials' };
/** The promise of issue 12: a change made through one instance is enforced by every other within this. */
const PROPAGATION_BOUND_MS = 1000;

interface Instance {
  url: string;
  child: ChildProcess;
}

/** Starts the fixture server on a random loopback port; resolves once it listens. */
function startInstance(database: string): Promise<Instance> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FIXTURE], {
      env: { PATH: process.env.PATH ?? '', OAUTH_DB: database },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const timer = setTimeout(() => reject(new Error('instance did not start')), 15_000);
    child.once('exit', (code) => reject(new Error(`instance exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve({ url: `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`, child });
    });
  });
}

function stopInstance(instance: Instance): Promise<void> {
  return new Promise((resolve) => {
    if (instance.child.exitCode !== null) return resolve();
    const kill = setTimeout(() => instance.child.kill('SIGKILL'), 5000);
    instance.child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    instance.child.stdin?.end();
  });
}

/** Polls `refused` until it holds or `PROPAGATION_BOUND_MS` has passed since `since`; resolves with the elapsed ms or undefined. */
async function refusedWithinBound(since: number, refused: () => Promise<boolean>): Promise<number | undefined> {
  while (Date.now() - since <= PROPAGATION_BOUND_MS) {
    if (await refused()) return Date.now() - since;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return undefined;
}

describePg('several instances on one PostgreSQL schema', () => {
  let db: Awaited<ReturnType<typeof freshSchema>>;
  let a: Instance;
  let b: Instance;
  let admin: { id: string; secret: string };
  let services: { id: string; secret: string }[];

  beforeAll(async () => {
    db = await freshSchema();
    const store = openPgStore(db.schema);
    try {
      const registry = new ClientRegistry(store, { bcryptCost: 4, clock: Date.now });
      const made = await Promise.all([
        registry.create({ name: 'operator', scopes: 'oauth:admin' }),
        registry.create({ name: 'svc-1', scopes: 'read' }),
        registry.create({ name: 'svc-2', scopes: 'read' }),
      ]);
      const [op, ...rest] = made.map((m) => ({ id: m.client.id, secret: m.clientSecret }));
      admin = op!;
      services = rest;
    } finally {
      await store.close();
    }
    const url = new URL(PG_URL as string);
    url.searchParams.set('options', `-c search_path=${db.schema}`);
    [a, b] = await Promise.all([startInstance(url.toString()), startInstance(url.toString())]);
  });
  afterAll(async () => {
    await Promise.all([a, b].filter(Boolean).map(stopInstance));
    await db?.drop();
  });

  const tokenFrom = async (instance: Instance, client: { id: string; secret: string }) => {
    const res = await request(instance.url).post('/oauth/token').auth(client.id, client.secret).type('form').send(GRANT);
    expect(res.status).toBe(200);
    return res.body.access_token as string;
  };

  it('refuses a client disabled through one instance at the other instance\'s guard and token endpoint within one second', async () => {
    const svc = services[0]!;
    const token = await tokenFrom(a, svc);
    expect((await request(b.url).get('/api/items').auth(token, { type: 'bearer' })).status).toBe(200);

    const adminToken = await tokenFrom(a, admin);
    const disabled = await request(a.url).patch(`/admin/clients/${svc.id}`).auth(adminToken, { type: 'bearer' }).send({ enabled: false });
    expect(disabled.status).toBe(200);
    const since = Date.now();
    const elapsed = await refusedWithinBound(since, async () => (await request(b.url).get('/api/items').auth(token, { type: 'bearer' })).status === 401);
    expect(elapsed).toBeDefined();
    const refused = await request(b.url).get('/api/items').auth(token, { type: 'bearer' });
    expect(refused.headers['www-authenticate']).toContain('error="invalid_token"');
    const noToken = await request(b.url).post('/oauth/token').auth(svc.id, svc.secret).type('form').send(GRANT);
    expect(noToken.status).toBeGreaterThanOrEqual(400);
    expect(noToken.body.error).toMatch(/invalid_client|unauthorized_client/);
  });

  it('refuses a token revoked through one instance (RFC 7009) at the other instance\'s guard within one second', async () => {
    const svc = services[1]!;
    const token = await tokenFrom(b, svc);
    const other = await tokenFrom(b, svc);
    expect((await request(b.url).get('/api/items').auth(token, { type: 'bearer' })).status).toBe(200);

    const revoked = await request(a.url).post('/oauth/revoke').auth(svc.id, svc.secret).type('form').send({ token });
    expect(revoked.status).toBe(200);
    const since = Date.now();
    const elapsed = await refusedWithinBound(since, async () => (await request(b.url).get('/api/items').auth(token, { type: 'bearer' })).status === 401);
    expect(elapsed).toBeDefined();
    // Only that token: the client's other token still works on both.
    expect((await request(b.url).get('/api/items').auth(other, { type: 'bearer' })).status).toBe(200);
    expect((await request(a.url).get('/api/items').auth(other, { type: 'bearer' })).status).toBe(200);
  });
});
