// The CLI as an operator uses it (issue 18): paged, filtered and streamed lists; per-client settings; guard rails; token list and revoke; global options anywhere; JSON errors; audit actors.
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import express from 'express';
import request from 'supertest';
import { runCli } from './in-process';
import { main } from '../../lib/cli/main';
import { createOAuth, type OAuth } from '../../lib';
import { SqliteStore } from '../../lib/store/sqlite';
import { ISSUER, memoryLogger, tempDir } from '../helpers';

let dir: string;
let cleanup: () => void;
let env: Record<string, string>;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  env = { OAUTH_DB: join(dir, 'oauth.sqlite'), OAUTH_BCRYPT_COST: '4' };
});
afterEach(() => cleanup());

const cli = (...argv: string[]) => runCli(argv, env);
async function create(...extra: string[]): Promise<{ client_id: string; client_secret: string }> {
  const res = await cli('client', 'create', '--name', 'svc', '--json', ...extra);
  expect(res.code).toBe(0);
  return JSON.parse(res.out) as { client_id: string; client_secret: string };
}

describe('client list', () => {
  it('streams every client as one JSON array, reading the store a page at a time (never a full read)', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create()).client_id);
    const pages = jest.spyOn(SqliteStore.prototype, 'listClientsPage');
    const full = jest.spyOn(SqliteStore.prototype, 'listClients');
    let out = '';
    let drains = 0;
    const code = await main(['client', 'list', '--json'], {
      env,
      output: { out: (s) => (out += s), err: () => undefined, drain: async () => void drains++ },
    });
    expect(code).toBe(0);
    const listed = JSON.parse(out) as { client_id: string }[];
    expect(listed.map((c) => c.client_id)).toEqual([...ids].sort());
    expect(full).not.toHaveBeenCalled();
    expect(pages).toHaveBeenCalled();
    // One page here (5 clients, pages of 500), drained before the next would be read.
    expect(pages).toHaveBeenCalledTimes(1);
    expect(drains).toBe(1);
    pages.mockRestore();
    full.mockRestore();
  });

  it('prints an empty JSON array for no match, and the same bytes as JSON.stringify for a match', async () => {
    await create();
    expect((await cli('client', 'list', '--json', '--name', 'nobody')).out).toBe('[]\n');
    const out = (await cli('client', 'list', '--json')).out;
    expect(out).toBe(`${JSON.stringify(JSON.parse(out), null, 2)}\n`);
  });

  it('prints one page with --limit and the cursor of the next; --cursor continues, each client once', async () => {
    for (let i = 0; i < 3; i++) await create();
    const first = JSON.parse((await cli('client', 'list', '--limit', '2', '--json')).out) as { clients: { client_id: string }[]; next_cursor: string };
    expect(first.clients).toHaveLength(2);
    const second = JSON.parse((await cli('client', 'list', '--limit', '2', '--cursor', first.next_cursor, '--json')).out) as {
      clients: { client_id: string }[];
      next_cursor: string | null;
    };
    expect(second.clients).toHaveLength(1);
    expect(second.next_cursor).toBeNull();
    const text = await cli('client', 'list', '--limit', '2');
    expect(text.err).toMatch(/^more: --cursor \S+\n$/);
  });

  it('filters by --name, --group, --enabled and --scope', async () => {
    const a = await create('--scope', 'read');
    const b = await create('--scope', 'write');
    await cli('group', 'create', 'ops', '--scope', 'deploy');
    await cli('client', 'add-group', b.client_id, 'ops');
    await cli('client', 'disable', a.client_id);
    const ids = async (...args: string[]) =>
      (JSON.parse((await cli('client', 'list', '--json', ...args)).out) as { client_id: string }[]).map((c) => c.client_id);
    expect(await ids('--group', 'ops')).toEqual([b.client_id]);
    expect(await ids('--enabled', 'false')).toEqual([a.client_id]);
    expect(await ids('--scope', 'deploy')).toEqual([b.client_id]);
    expect((await cli('client', 'list', '--enabled', 'maybe')).code).toBe(2);
  });
});

describe('per-client settings from the CLI', () => {
  it('sets a description, a token lifetime and a token format; the server issues accordingly', async () => {
    const { client_id: id, client_secret: secret } = await create('--scope', 'read', '--token-lifetime', '2m', '--description', 'nightly export');
    const oauth: OAuth = createOAuth({ issuer: ISSUER, database: env.OAUTH_DB, bcryptCost: 4, logger: memoryLogger() });
    try {
      const app = express().use(oauth.tokenRouter());
      const token = () => request(app).post('/oauth/token').auth(id, secret).type('form').send({ grant_type: 'client_credentials' });
      expect((await token()).body.expires_in).toBe(120);
      const updated = await cli('client', 'update', id, '--token-lifetime', 'default', '--token-format', 'reference', '--json');
      expect(JSON.parse(updated.out)).toMatchObject({ token_lifetime: null, token_format: 'reference', description: 'nightly export' });
      const res = await token();
      expect(res.body.expires_in).toBe(3600);
      expect((res.body.access_token as string).split('.')).not.toHaveLength(3);
      expect((await cli('client', 'update', id)).code).toBe(2);
      expect((await cli('client', 'update', id, '--token-lifetime', '2d')).err).toMatch(/token_lifetime must be an integer number of seconds from 1 to 86400/);
    } finally {
      await oauth.close();
    }
  });
});

describe('guard rails from the CLI', () => {
  it('refuses to delete or disable the last client holding oauth:admin unless --force', async () => {
    const { client_id: id } = await create('--scope', 'oauth:admin');
    const refused = await cli('client', 'delete', id);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/is the last enabled client holding oauth:admin/);
    expect((await cli('client', 'disable', id)).code).toBe(1);
    expect((await cli('client', 'disable', id, '--force')).code).toBe(0);
    expect((await cli('client', 'show', id, '--json')).out).toMatch(/"enabled": false/);
  });
});

describe('operator token commands', () => {
  it("lists a client's live reference tokens and revokes one by jti: the server refuses it from then on", async () => {
    const { client_id: id, client_secret: secret } = await create('--scope', 'read', '--token-format', 'reference');
    const oauth: OAuth = createOAuth({ issuer: ISSUER, database: env.OAUTH_DB, bcryptCost: 4, logger: memoryLogger() });
    try {
      const app = express().use(oauth.tokenRouter());
      app.get('/api', oauth.requireScope('read'), (_req, res) => res.json({ ok: true }));
      const token = (await request(app).post('/oauth/token').auth(id, secret).type('form').send({ grant_type: 'client_credentials' })).body
        .access_token as string;
      const listed = JSON.parse((await cli('token', 'list', '--client', id, '--json')).out) as { jti: string }[];
      expect(listed).toHaveLength(1);
      expect(JSON.stringify(listed)).not.toContain(token);
      const revoked = await cli('token', 'revoke', (listed[0] as { jti: string }).jti, '--client', id, '--json');
      expect(JSON.parse(revoked.out)).toEqual({ jti: listed[0]?.jti, revoked: true, already_revoked: false });
      // The CLI is another writer: the server hears of it on its next poll of the change feed.
      await oauth.server.changes.poll();
      expect((await request(app).get('/api').auth(token, { type: 'bearer' })).status).toBe(401);
    } finally {
      await oauth.close();
    }
  });
});

describe('global options and errors', () => {
  it('accepts --db and --json anywhere on the line', async () => {
    const db = join(dir, 'other.sqlite');
    const created = await runCli(['--json', 'client', '--db', db, 'create', '--name', 'x'], {});
    expect(created.code).toBe(0);
    expect(JSON.parse(created.out)).toHaveProperty('client_secret');
    const listed = await runCli([`--db=${db}`, 'client', 'list', '--json'], {});
    expect((JSON.parse(listed.out) as unknown[]).length).toBe(1);
  });

  it.each([
    [['client', 'show', 'nope', '--json'], 'not_found', 1],
    [['client', 'frobnicate', '--json'], 'usage', 2],
    [['client', 'set-audience', 'x', 'a#frag', '--json'], 'invalid', 1],
  ])('under --json prints the failure of %j as JSON on stderr with a stable error code', async (argv, error, code) => {
    await create();
    const res = await cli(...argv);
    expect(res.code).toBe(code);
    expect(res.out).toBe('');
    expect(JSON.parse(res.err)).toEqual({ error, error_description: expect.any(String) });
  });

  it('says why the database cannot be opened, as JSON under --json', async () => {
    const res = await runCli(['client', 'create', '--name', 'x', '--json', '--db', join(dir, 'nope', 'x.sqlite')], {});
    expect(JSON.parse(res.err)).toEqual({
      error: 'database_unavailable',
      error_description: `the database cannot be opened: ${join(dir, 'nope', 'x.sqlite')} (the directory ${join(dir, 'nope')} does not exist)`,
    });
    const missing = await runCli(['client', 'list', '--json', '--db', join(dir, 'absent.sqlite')], {});
    expect(JSON.parse(missing.err).error).toBe('database_missing');
    // A directory given by mistake: refused with the reason, and its mode left as it was.
    chmodSync(dir, 0o755);
    const directory = await runCli(['client', 'list', '--db', dir], {});
    expect(directory.err).toBe(`express-client-credentials: the database cannot be opened: ${dir} (it is a directory)\n`);
    expect(statSync(dir).mode & 0o777).toBe(0o755);
  });

  it('records the CLI and its OS user as the actor of every audit event, with old and new values', async () => {
    const log = join(dir, 'audit.jsonl');
    env.OAUTH_AUDIT_LOG = log;
    const { client_id: id } = await create('--scope', 'read');
    await cli('client', 'set-scope', id, 'read write');
    const events = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => e.type)).toEqual(['client.created', 'client.updated']);
    for (const e of events) expect(e.actor).toEqual({ via: 'cli', user: userInfo().username });
    expect(events[1]).toMatchObject({ before: { scopes: ['read'] }, after: { scopes: ['read', 'write'] } });
  });
});
