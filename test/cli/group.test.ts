// The group commands and the client group/show commands, run as the real built bin against a temporary database.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import request from 'supertest';
import { ClientRegistry } from '../../lib/core';
import { SqliteStore } from '../../lib/store/sqlite';
import { buildApp, tempDir, type TestApp } from '../helpers';

const BIN = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built bin with `--db` pointing at `database`; bounded by a timeout. */
function cli(database: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args, '--db', database], { timeout: 15_000, env: {} }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let dir: { dir: string; cleanup: () => void };
let db: string;
beforeEach(() => {
  dir = tempDir();
  db = join(dir.dir, 'oauth.sqlite');
});
afterEach(() => dir.cleanup());

/** Registers a client in-process (bcrypt cost 4) on the same file the CLI will use. */
async function seedClient(scopes = 'read'): Promise<{ id: string; secret: string }> {
  const store = SqliteStore.open(db);
  try {
    const { client, clientSecret } = await new ClientRegistry(store, { bcryptCost: 4, clock: Date.now }).create({ name: 'svc', scopes });
    return { id: client.id, secret: clientSecret };
  } finally {
    await store.close();
  }
}

describe('CLI group commands', () => {
  it('creates, lists, shows and changes a group', async () => {
    const created = await cli(db, 'group', 'create', 'billing', '--scope', 'invoices:read invoices:write');
    expect(created).toEqual({ code: 0, stdout: 'group billing created; members may request: invoices:read invoices:write\n', stderr: '' });
    const listed = await cli(db, 'group', 'list');
    expect(listed.stdout).toBe('NAME     MEMBERS  SCOPE\nbilling  0        invoices:read invoices:write\n');
    const changed = await cli(db, 'group', 'set-scope', 'billing', 'invoices:read');
    expect(changed.stdout).toBe('group billing members may now request: invoices:read\n');
    const shown = await cli(db, 'group', 'show', 'billing', '--json');
    expect(JSON.parse(shown.stdout)).toEqual({
      name: 'billing',
      scope: 'invoices:read',
      audiences: [],
      members: [],
      // created at 1, changed once: the version the admin API gives as the group's ETag
      version: 2,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
  });

  it('refuses to delete a group that has members unless --force, with a one-line error and status 1', async () => {
    const { id } = await seedClient();
    await cli(db, 'group', 'create', 'ops', '--scope', 'deploy');
    await cli(db, 'client', 'add-group', id, 'ops');
    const refused = await cli(db, 'group', 'delete', 'ops');
    expect(refused).toEqual({
      code: 1,
      stdout: '',
      stderr: 'express-client-credentials: group "ops" still has 1 member(s); remove them first or force the delete\n',
    });
    expect((await cli(db, 'group', 'show', 'ops')).code).toBe(0);
    expect(await cli(db, 'group', 'delete', 'ops', '--force')).toEqual({ code: 0, stdout: 'group ops deleted\n', stderr: '' });
    expect((await cli(db, 'group', 'show', 'ops')).stderr).toBe('express-client-credentials: no group named "ops"\n');
  });

  it('refuses a bad group name or a scope outside RFC 6749 §3.3 and creates nothing', async () => {
    await seedClient();
    const badName = await cli(db, 'group', 'create', 'no spaces');
    expect(badName.code).toBe(1);
    expect(badName.stderr).toMatch(/^express-client-credentials: a group name is 1 to 64 letters/);
    const badScope = await cli(db, 'group', 'create', 'g', '--scope', 'ok "quoted"');
    expect(badScope.code).toBe(1);
    expect(badScope.stderr).toBe('express-client-credentials: scope: "\\"quoted\\"" is not a valid scope (RFC 6749 §3.3 scope-token)\n');
    expect((await cli(db, 'group', 'list')).stderr).toBe('no groups\n');
    expect((await cli(db, 'group', 'show')).code).toBe(2);
  });
});

describe('CLI client group commands', () => {
  it('adds a client to a group and removes it; client show lists direct and effective scopes and groups', async () => {
    const { id } = await seedClient('read');
    await cli(db, 'group', 'create', 'billing', '--scope', 'invoices:read');
    const added = await cli(db, 'client', 'add-group', id, 'billing');
    expect(added.stdout).toBe(`client ${id} is in group billing; may now request: read invoices:read\n`);
    const shown = await cli(db, 'client', 'show', id);
    expect(shown.stdout).toContain('\nscope            read\n');
    expect(shown.stdout).toContain('\ngroups           billing\n');
    expect(shown.stdout).toContain('\neffective_scope  read invoices:read\n');
    const removed = await cli(db, 'client', 'remove-group', id, 'billing');
    expect(removed.stdout).toBe(`client ${id} left group billing; may now request: read\n`);
    const again = await cli(db, 'client', 'remove-group', id, 'billing');
    expect(again).toEqual({ code: 1, stdout: '', stderr: `express-client-credentials: client "${id}" is not in group "billing"\n` });
    expect((await cli(db, 'client', 'add-group', id, 'nope')).stderr).toBe('express-client-credentials: no group named "nope"\n');
    expect((await cli(db, 'client', 'add-group', 'nobody', 'billing')).stderr).toBe('express-client-credentials: no client with id "nobody"\n');
  });

  it('shows which secrets exist and when the previous one expires after rotate-secret --grace, never a secret or a hash', async () => {
    const { id, secret } = await seedClient('read');
    const rotated = await cli(db, 'client', 'rotate-secret', id, '--grace', '24h', '--json');
    const fresh = JSON.parse(rotated.stdout).client_secret as string;
    const shown = await cli(db, 'client', 'show', id, '--json');
    const view = JSON.parse(shown.stdout);
    expect(view.secrets).toEqual([
      { status: 'current', created_at: expect.any(String), expires_at: null },
      { status: 'previous', created_at: expect.any(String), expires_at: expect.any(String) },
    ]);
    const grace = Date.parse(view.secrets[1].expires_at) - Date.parse(view.secrets[0].created_at);
    expect(grace).toBe(24 * 3600_000);
    const text = await cli(db, 'client', 'show', id);
    expect(text.stdout).toMatch(/\nsecrets +current \(since [^)]+\); previous, valid until \S+Z\n/);
    for (const out of [shown.stdout, text.stdout]) {
      expect(out).not.toContain(secret);
      expect(out).not.toContain(fresh);
      expect(out).not.toMatch(/\$2[aby]\$/);
    }
  });
});

describe('CLI changes seen by a running server', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildApp();
  });
  afterEach(() => t.close());

  it('lets the next token request see a group change the CLI made to the server\'s database', async () => {
    const { client, clientSecret } = await t.oauth.registry.create({ name: 'svc', scopes: 'read' });
    const token = (scope: string) =>
      request(t.app).post('/oauth/token').auth(client.id, clientSecret).type('form').send({ grant_type: 'client_credentials', scope });
    expect((await token('deploy')).body.error).toBe('invalid_scope');
    await cli(t.database, 'group', 'create', 'ops', '--scope', 'deploy');
    await cli(t.database, 'client', 'add-group', client.id, 'ops');
    expect((await token('deploy')).body.scope).toBe('deploy');
    await cli(t.database, 'group', 'set-scope', 'ops', 'observe');
    expect((await token('deploy')).body.error).toBe('invalid_scope');
    expect((await token('observe')).status).toBe(200);
  });
});
