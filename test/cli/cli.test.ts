// The express-client-credentials CLI, run as the real built bin (node dist/cli/main.js) against temporary databases.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import express from 'express';
import request from 'supertest';
import type { AddressInfo } from 'node:net';
import { closeDefaultOAuth, createOAuth, tokenRouter } from '../../lib';
import { ISSUER, memoryLogger, tempDir } from '../helpers';

const BIN = resolve(__dirname, '../../dist/cli/main.js');
const PROGRAM = 'express-client-credentials';
const COMMANDS = ['create', 'list', 'show', 'set-scope', 'rotate-secret', 'disable', 'enable', 'delete'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let dir: string;
let cleanup: () => void;
let db: string;
beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm test (it builds first)`);
});
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  db = join(dir, 'oauth.sqlite');
});
afterEach(() => cleanup());

/** Runs the bin with `args` in the temp directory; OAUTH_DB is unset unless `env` sets it. */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const { OAUTH_DB: _ignored, ...base } = process.env;
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: dir, env: { ...base, ...env }, timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/** Runs against the test database. */
function run(...args: string[]): Promise<Run> {
  return cli([...args, '--db', db]);
}

async function createClient(scope = 'read write'): Promise<{ client_id: string; client_secret: string }> {
  const res = await run('client', 'create', '--name', 'billing', '--scope', scope, '--json');
  expect(res.code).toBe(0);
  return JSON.parse(res.stdout) as { client_id: string; client_secret: string };
}

/** Everything a failed command could have changed: the files in the directory and the database bytes. */
function snapshot(): string {
  const files = readdirSync(dir).sort();
  const bytes = existsSync(db) ? createHash('sha256').update(readFileSync(db)).digest('hex') : 'none';
  return `${files.join(',')} ${bytes}`;
}

/** Asserts the RFC-free CLI contract for bad input: one line on stderr, no stack, nothing on stdout. */
function expectFailure(res: Run, code: number, message: string): void {
  expect(res.code).toBe(code);
  expect(res.stdout).toBe('');
  expect(res.stderr).toBe(`${PROGRAM}: ${message}\n`);
  expect(res.stderr).not.toMatch(/\n\s+at /);
}

/** Asks the token endpoint of an app on the same database for a token. */
async function tokenRequest(id: string, secret: string, scope?: string) {
  const oauth = createOAuth({ issuer: ISSUER, database: db, bcryptCost: 4, signingAlgorithm: 'ES256', logger: memoryLogger() });
  try {
    const app = express();
    app.use(oauth.tokenRouter());
    const res = await request(app)
      .post('/oauth/token')
      .auth(id, secret)
      .type('form')
      .send({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) });
    const keys = await oauth.server.keys.publicJwks();
    return { res, keys };
  } finally {
    await oauth.close();
  }
}

describe('CLI', () => {
  describe('help', () => {
    it('prints the top-level help listing every command with --help', async () => {
      const res = await cli(['--help']);
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(new RegExp(`^Usage: ${PROGRAM} <noun> <command>`));
      for (const command of COMMANDS) expect(res.stdout).toContain(`client ${command}`);
      expect(res.stderr).toBe('');
    });

    it('prints the help on stderr with exit status 2 when run without arguments', async () => {
      const res = await cli([]);
      expect(res.code).toBe(2);
      expect(res.stdout).toBe('');
      expect(res.stderr).toMatch(/^Usage: /);
    });

    it('answers --help on every command, without touching a database', async () => {
      const noun = await cli(['client', '--help']);
      expect(noun.code).toBe(0);
      for (const command of COMMANDS) {
        const res = await cli(['client', command, '--help']);
        expect(res.code).toBe(0);
        expect(res.stdout).toMatch(new RegExp(`^Usage: ${PROGRAM} client ${command}`));
        expect(res.stdout).toContain('--db PATH');
        expect(res.stdout).toContain('--json');
      }
      expect(readdirSync(dir)).toEqual([]);
    });
  });

  describe('client create', () => {
    it('prints client_id and client_secret once on stdout, and the secret gets a token that verifies with the stored key', async () => {
      const res = await run('client', 'create', '--name', 'billing', '--scope', 'read write');
      expect(res.code).toBe(0);
      const id = /^client_id\s+(\S+)$/m.exec(res.stdout)?.[1] as string;
      const secret = /^client_secret\s+(\S+)$/m.exec(res.stdout)?.[1] as string;
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(res.stdout.split(secret)).toHaveLength(2);
      expect(res.stderr).not.toContain(secret);

      const { res: token, keys } = await tokenRequest(id, secret);
      expect(token.status).toBe(200);
      expect(token.body.scope).toBe('read write');
      const jwt = await import('jsonwebtoken');
      const { createPublicKey } = await import('node:crypto');
      const key = keys[0];
      const payload = jwt.verify(token.body.access_token, createPublicKey({ key: key as never, format: 'jwk' }), { algorithms: [key?.alg as 'ES256'] });
      expect(payload).toMatchObject({ sub: id, scope: 'read write' });
    });

    it('client create, then curl -u ID:SECRET against a minimal app using tokenRouter() on OAUTH_DB, returns a token (done-when check)', async () => {
      const { client_id, client_secret } = await createClient('read');
      const saved = { db: process.env.OAUTH_DB, issuer: process.env.OAUTH_ISSUER };
      process.env.OAUTH_DB = db;
      process.env.OAUTH_ISSUER = ISSUER;
      const app = express();
      app.use(tokenRouter());
      const server = app.listen(0, '127.0.0.1');
      try {
        await new Promise((ready) => server.once('listening', ready));
        const { port } = server.address() as AddressInfo;
        const res = await fetch(`http://127.0.0.1:${port}/oauth/token`, {
          method: 'POST',
          headers: { Authorization: `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials',
        });
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'read' });
      } finally {
        await new Promise((closed) => server.close(closed));
        await closeDefaultOAuth();
        for (const [name, value] of [['OAUTH_DB', saved.db], ['OAUTH_ISSUER', saved.issuer]] as const) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
      }
    });

    it('prints one JSON object with client_id, client_secret and scope with --json', async () => {
      const res = await run('client', 'create', '--name', 'billing', '--scope', 'read write', '--json');
      expect(res.code).toBe(0);
      const body = JSON.parse(res.stdout) as Record<string, unknown>;
      expect(body).toMatchObject({ client_name: 'billing', scope: 'read write', grant_types: ['client_credentials'], enabled: true });
      expect(body.client_id).toMatch(/^[0-9a-f]{32}$/);
      expect(body.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(res.stderr).toBe('');
    });

    it('uses OAUTH_DB when --db is absent, --db over OAUTH_DB, and ./oauth.sqlite by default', async () => {
      const fromEnv = join(dir, 'env.sqlite');
      expect((await cli(['client', 'create', '--name', 'a'], { OAUTH_DB: fromEnv })).code).toBe(0);
      expect(existsSync(fromEnv)).toBe(true);
      const fromFlag = join(dir, 'flag.sqlite');
      expect((await cli(['client', 'create', '--name', 'a', '--db', fromFlag], { OAUTH_DB: fromEnv })).code).toBe(0);
      expect(existsSync(fromFlag)).toBe(true);
      expect((await cli(['client', 'create', '--name', 'a'])).code).toBe(0);
      expect(existsSync(join(dir, 'oauth.sqlite'))).toBe(true);
    });
  });

  describe('client administration', () => {
    it('lists and shows clients, never with a secret or a hash', async () => {
      const { client_id, client_secret } = await createClient();
      const list = await run('client', 'list');
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(new RegExp(`^CLIENT_ID\\s+NAME\\s+ENABLED\\s+SCOPE\\n${client_id}\\s+billing\\s+yes\\s+read write\\n$`));
      const listJson = JSON.parse((await run('client', 'list', '--json')).stdout) as Array<Record<string, unknown>>;
      expect(listJson).toHaveLength(1);
      expect(listJson[0]).toMatchObject({ client_id, client_name: 'billing', scope: 'read write', enabled: true });
      const show = await run('client', 'show', client_id);
      expect(show.stdout).toMatch(new RegExp(`^client_id\\s+${client_id}$`, 'm'));
      const showJson = await run('client', 'show', client_id, '--json');
      expect(JSON.parse(showJson.stdout)).toMatchObject({ client_id, scope: 'read write' });
      for (const out of [list.stdout, show.stdout, showJson.stdout]) {
        expect(out).not.toContain(client_secret);
        expect(out).not.toContain('$2b$');
      }
    });

    it('replaces the scopes with set-scope', async () => {
      const { client_id, client_secret } = await createClient('read');
      const res = await run('client', 'set-scope', client_id, 'read admin', '--json');
      expect(res.code).toBe(0);
      expect(JSON.parse(res.stdout)).toMatchObject({ client_id, scope: 'read admin' });
      expect((await tokenRequest(client_id, client_secret, 'admin')).res.body.scope).toBe('admin');
    });

    it('rotates the secret: the new one printed once, the old one cut at once by default', async () => {
      const { client_id, client_secret: old } = await createClient();
      const res = await run('client', 'rotate-secret', client_id, '--json');
      expect(res.code).toBe(0);
      const { client_secret } = JSON.parse(res.stdout) as { client_secret: string };
      expect(client_secret).not.toBe(old);
      expect((await tokenRequest(client_id, client_secret)).res.status).toBe(200);
      expect((await tokenRequest(client_id, old)).res.status).toBe(401);
    });

    it('rotates the secret with --grace: the old one keeps working for the grace period', async () => {
      const { client_id, client_secret: old } = await createClient();
      const res = await run('client', 'rotate-secret', client_id, '--grace', '24h');
      expect(res.code).toBe(0);
      const secret = /^client_secret\s+(\S+)$/m.exec(res.stdout)?.[1] as string;
      expect(res.stderr).toMatch(/^Store the client secret now.*\nThe previous secret stays valid until \d{4}-\d\d-\d\dT/);
      expect((await tokenRequest(client_id, secret)).res.status).toBe(200);
      expect((await tokenRequest(client_id, old)).res.status).toBe(200);
      const shown = JSON.parse((await run('client', 'show', client_id, '--json')).stdout) as { secrets: Array<{ expires_at: string | null }> };
      expect(shown.secrets).toHaveLength(2);
      const grace = Date.parse(shown.secrets[1]?.expires_at as string) - Date.now();
      expect(grace).toBeGreaterThan(23 * 3_600_000);
      expect(grace).toBeLessThanOrEqual(24 * 3_600_000);
    });

    it('disables, enables and deletes a client', async () => {
      const { client_id, client_secret } = await createClient();
      expect((await run('client', 'disable', client_id)).stdout).toBe(`client ${client_id} disabled\n`);
      const refused = (await tokenRequest(client_id, client_secret)).res;
      expect(refused.body).toEqual({ error: 'unauthorized_client', error_description: 'the client is disabled' });
      expect(JSON.parse((await run('client', 'enable', client_id, '--json')).stdout)).toMatchObject({ client_id, enabled: true });
      expect((await tokenRequest(client_id, client_secret)).res.status).toBe(200);
      expect((await run('client', 'delete', client_id)).stdout).toBe(`client ${client_id} deleted\n`);
      expect((await tokenRequest(client_id, client_secret)).res.status).toBe(401);
      expect((await run('client', 'list', '--json')).stdout).toBe('[]\n');
    });
  });

  describe('a running app on the same database', () => {
    it('sees disable, enable, rotate-secret and delete made by the CLI on its next token request', async () => {
      const { client_id, client_secret } = await createClient('read');
      const oauth = createOAuth({ issuer: ISSUER, database: db, bcryptCost: 4, signingAlgorithm: 'ES256', logger: memoryLogger() });
      const app = express();
      app.use(oauth.tokenRouter());
      const token = (secret: string) =>
        request(app).post('/oauth/token').auth(client_id, secret).type('form').send({ grant_type: 'client_credentials' });
      try {
        expect((await token(client_secret)).status).toBe(200);
        await run('client', 'disable', client_id);
        expect((await token(client_secret)).body.error).toBe('unauthorized_client');
        await run('client', 'enable', client_id);
        expect((await token(client_secret)).status).toBe(200);
        const rotated = JSON.parse((await run('client', 'rotate-secret', client_id, '--json')).stdout) as { client_secret: string };
        expect((await token(client_secret)).status).toBe(401);
        expect((await token(rotated.client_secret)).status).toBe(200);
        await run('client', 'delete', client_id);
        expect((await token(rotated.client_secret)).status).toBe(401);
      } finally {
        await oauth.close();
      }
    });
  });

  describe('bad input: one line on stderr, non-zero exit, nothing changed', () => {
    it('an unknown client id, for every command that takes one', async () => {
      await createClient();
      const before = snapshot();
      for (const args of [['show', 'nope'], ['set-scope', 'nope', 'read'], ['rotate-secret', 'nope'], ['disable', 'nope'], ['enable', 'nope'], ['delete', 'nope']]) {
        expectFailure(await run('client', ...args), 1, 'no client with id "nope"');
      }
      expect(snapshot()).toBe(before);
    });

    it('a scope breaking the RFC 6749 §3.3 scope-token grammar', async () => {
      const { client_id } = await createClient();
      const before = snapshot();
      expectFailure(await run('client', 'set-scope', client_id, 'read "x'), 1, 'scope: "\\"x" is not a valid scope (RFC 6749 §3.3 scope-token)');
      expectFailure(await run('client', 'create', '--name', 'b', '--scope', 'ré'), 1, 'scope: "ré" is not a valid scope (RFC 6749 §3.3 scope-token)');
      expect(snapshot()).toBe(before);
    });

    it('a bad scope on a new database leaves no database file behind', async () => {
      expectFailure(await run('client', 'create', '--name', 'b', '--scope', 'a\\b'), 1, 'scope: "a\\\\b" is not a valid scope (RFC 6749 §3.3 scope-token)');
      expect(readdirSync(dir)).toEqual([]);
    });

    it('a missing argument', async () => {
      const { client_id } = await createClient();
      const before = snapshot();
      expectFailure(await run('client', 'show'), 2, `missing argument ID (see '${PROGRAM} client show --help')`);
      expectFailure(await run('client', 'set-scope', client_id), 2, `missing argument SCOPE (see '${PROGRAM} client set-scope --help')`);
      expectFailure(await run('client', 'create', '--scope', 'read'), 2, `missing --name NAME (see '${PROGRAM} client create --help')`);
      expectFailure(await run('client', 'create', '--name'), 2, `--name needs a value (write --name=VALUE for a value starting with "-") (see '${PROGRAM} client create --help')`);
      expectFailure(await cli(['client', 'list', '--db']), 2, `--db needs a value (see '${PROGRAM} client list --help')`);
      expect(snapshot()).toBe(before);
    });

    it('an unknown flag, a repeated flag, an extra argument, a bad duration, an unknown command', async () => {
      const { client_id } = await createClient();
      const before = snapshot();
      expectFailure(await run('client', 'list', '--frobnicate'), 2, `unknown option --frobnicate (see '${PROGRAM} client list --help')`);
      expectFailure(await run('client', 'create', '--name', 'a', '--name', 'b'), 2, `--name was given more than once (see '${PROGRAM} client create --help')`);
      expectFailure(await run('client', 'set-scope', client_id, 'read', 'write'), 2, `unexpected argument "write" (see '${PROGRAM} client set-scope --help')`);
      expectFailure(
        await run('client', 'rotate-secret', client_id, '--grace', '1y'),
        2,
        `--grace must be a duration such as 0, 90s, 30m, 24h or 7d (see '${PROGRAM} client rotate-secret --help')`,
      );
      expectFailure(await run('client', 'frob'), 2, `unknown command "client frob" (see '${PROGRAM} client --help')`);
      expectFailure(await run('clients', 'list'), 2, `unknown command "clients" (see '${PROGRAM} --help')`);
      expect(snapshot()).toBe(before);
    });

    it('an unwritable or missing database path, saying why it cannot be opened', async () => {
      writeFileSync(join(dir, 'file'), 'x');
      const underFile = join(dir, 'file', 'oauth.sqlite');
      expectFailure(
        await cli(['client', 'create', '--name', 'a', '--db', underFile]),
        1,
        `the database cannot be opened: ${underFile} (${join(dir, 'file')} is not a directory)`,
      );
      const missingDir = join(dir, 'missing', 'oauth.sqlite');
      expectFailure(
        await cli(['client', 'create', '--name', 'a', '--db', missingDir]),
        1,
        `the database cannot be opened: ${missingDir} (the directory ${join(dir, 'missing')} does not exist)`,
      );
      expectFailure(await cli(['client', 'list', '--db', db]), 1, `no database at ${db} (give --db PATH or set OAUTH_DB)`);
      expectFailure(await cli(['client', 'delete', 'x', '--db', db]), 1, `no database at ${db} (give --db PATH or set OAUTH_DB)`);
      expect(readdirSync(dir)).toEqual(['file']);
    });

    it('a database written by a newer version of the library', async () => {
      const newer = new Database(db);
      newer.pragma('user_version = 999');
      newer.close();
      chmodSync(db, 0o600); // made owner-only, as the library makes its files: no permission warning here
      const before = snapshot();
      const res = await run('client', 'list');
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(new RegExp(`^${PROGRAM}: database schema version 999 is newer than this library understands \\(\\d+\\): ${db}\\n$`));
      expect(snapshot()).toBe(before);
    });
  });
});
