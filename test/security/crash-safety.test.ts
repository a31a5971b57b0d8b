// Crash safety of the real CLI: SIGKILL at random moments of client operations leaves a consistent, usable store; a locked or read-only database fails clearly.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ClientRegistry, GroupRegistry, type Client } from '../../lib/core';
import { SqliteStore } from '../../lib/store/sqlite';
import { StoreError } from '../../lib/store';
import { tempDir } from '../helpers';

const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');
/** Kills per run; CRASH_RUNS raises it for a longer local soak. */
const RUNS = Number(process.env.CRASH_RUNS ?? 20);

interface Outcome {
  code: number | null;
  killed: boolean;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; with `killAfterMs`, SIGKILLs it then (if it is still running). */
function cli(args: string[], killAfterMs?: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer =
      killAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            killed = child.kill('SIGKILL');
          }, killAfterMs);
    const hang = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      clearTimeout(hang);
      resolve({ code, killed: killed && code === null, stdout, stderr });
    });
  });
}

/** A small deterministic generator, so every run kills at the same moments. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Store invariants that hold after any crash: SQLite sound, foreign keys intact, exactly one current secret per client. */
function checkConsistent(file: string): void {
  const db = new Database(file);
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    const perClient = db
      .prepare<[], { id: string; total: number; current: number; bad: number }>(
        `SELECT c.id, count(s.id) AS total, sum(s.expires_at IS NULL) AS current,
                sum(s.hash NOT GLOB '$2[aby]$[0-9][0-9]$*') AS bad
         FROM clients c LEFT JOIN client_secrets s ON s.client_id = c.id GROUP BY c.id`,
      )
      .all();
    for (const row of perClient) {
      expect({ id: row.id, current: row.current, bad: row.bad }).toEqual({ id: row.id, current: 1, bad: 0 });
      expect(row.total).toBeLessThanOrEqual(2);
    }
  } finally {
    db.close();
  }
}

async function clients(file: string): Promise<Map<string, Client>> {
  const store = SqliteStore.open(file);
  try {
    return new Map((await store.listClients()).map((c) => [c.id, c]));
  } finally {
    await store.close();
  }
}

type Op = 'create' | 'rotate-secret' | 'rotate-secret-grace' | 'disable' | 'enable' | 'set-scope' | 'add-group' | 'remove-group' | 'delete';
const OPS: Op[] = ['create', 'rotate-secret', 'rotate-secret-grace', 'disable', 'add-group', 'enable', 'set-scope', 'remove-group', 'delete'];

function argsFor(op: Op, id: string, db: string): string[] {
  switch (op) {
    case 'create':
      return ['client', 'create', '--name', 'crash-test', '--scope', 'read write', '--db', db];
    case 'rotate-secret':
      return ['client', 'rotate-secret', id, '--db', db];
    case 'rotate-secret-grace':
      return ['client', 'rotate-secret', id, '--grace', '1h', '--db', db];
    case 'set-scope':
      return ['client', 'set-scope', id, 'admin', '--db', db];
    case 'add-group':
    case 'remove-group':
      return ['client', op, id, 'ops', '--db', db];
    default:
      return ['client', op, id, '--db', db];
  }
}

/** The target client after the run is either exactly as before or exactly as the finished operation leaves it. */
function checkOldOrNew(op: Op, before: Map<string, Client>, after: Map<string, Client>, id: string): 'old' | 'new' {
  const old = before.get(id) as Client;
  if (op === 'create') {
    const added = [...after.keys()].filter((k) => !before.has(k));
    expect(added.length).toBeLessThanOrEqual(1);
    expect(after.size - before.size).toBe(added.length);
    if (added.length === 0) return 'old';
    expect(after.get(added[0] as string)).toMatchObject({ name: 'crash-test', scopes: ['read', 'write'], enabled: true });
    return 'new';
  }
  expect(after.size === before.size || (op === 'delete' && after.size === before.size - 1)).toBe(true);
  const now = after.get(id);
  if (op === 'delete') return now === undefined ? 'new' : (expect(now).toEqual(old), 'old');
  expect(now).toBeDefined();
  const c = now as Client;
  const done = finished(op, old, c);
  if (c.version === old.version) {
    expect(c).toEqual(old);
    // An operation whose result held already (adding a member twice) succeeds without a change.
    return done ? 'new' : 'old';
  }
  expect(c.version).toBe(old.version + 1);
  expect(done).toBe(true);
  return 'new';
}

/** Whether `c` is what `op` on `old` leaves behind. */
function finished(op: Op, old: Client, c: Client): boolean {
  switch (op) {
    case 'disable':
      return !c.enabled;
    case 'enable':
      return c.enabled;
    case 'set-scope':
      return c.scopes.join(' ') === 'admin';
    case 'add-group':
      return c.groups.includes('ops');
    case 'remove-group':
      return !c.groups.includes('ops');
    default: {
      const oldHashes = new Set(old.secrets.map((s) => s.hash));
      return !oldHashes.has(c.secrets[0]?.hash as string) && c.secrets.length === (op === 'rotate-secret-grace' ? 2 : 1);
    }
  }
}

describe('CLI crash safety', () => {
  let dir: string;
  let cleanup: () => void;
  let file: string;
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
  });
  beforeEach(async () => {
    ({ dir, cleanup } = tempDir());
    file = join(dir, 'oauth.sqlite');
    const store = SqliteStore.open(file);
    const registry = new ClientRegistry(store, { bcryptCost: 4, clock: Date.now });
    const groups = new GroupRegistry(store, { clock: Date.now });
    await groups.create({ name: 'ops', scopes: 'ops:read' });
    for (let i = 0; i < 4; i++) {
      const { client } = await registry.create({ name: `seed ${i}`, scopes: 'read' });
      if (i % 2) await groups.addClient(client.id, 'ops');
    }
    await store.close();
  });
  afterEach(() => cleanup());

  it(`leaves a consistent, usable store after SIGKILL at ${RUNS} random moments of create, rotate, disable, enable, set-scope, add-group, remove-group and delete`, async () => {
    const started = Date.now();
    const full = await cli(argsFor('create', '', file));
    expect(full.code).toBe(0);
    const fullMs = Date.now() - started;
    const random = prng(6);
    const outcomes = { old: 0, new: 0, killed: 0 };
    for (let run = 0; run < RUNS; run++) {
      const before = await clients(file);
      const ids = [...before.keys()];
      const op = OPS[run % OPS.length] as Op;
      const id = ids[Math.floor(random() * ids.length)] as string;
      // Spread the kills over the whole life of the process: start-up, bcrypt, the transaction, exit.
      const result = await cli(argsFor(op, id, file), Math.floor(fullMs * random()));
      checkConsistent(file);
      const after = await clients(file);
      const state = checkOldOrNew(op, before, after, id);
      if (result.killed) outcomes.killed++;
      else if (result.code === 0) expect({ op, state, out: result.stdout }).toEqual({ op, state: 'new', out: result.stdout });
      else {
        // A refused operation (already in the group, not a member) says so in one line and changes nothing.
        expect(result.code).toBe(1);
        expect(after).toEqual(before);
        expect(result.stderr).toMatch(/^express-client-credentials: [^\n]+\n$/);
      }
      outcomes[state]++;
    }
    expect(outcomes.killed).toBeGreaterThan(0);
    const list = await cli(['client', 'list', '--json', '--db', file]);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as unknown[]).length).toBe((await clients(file)).size);
  });

  it('fails with a clear message, not a hang, when another process holds a write lock on the database', async () => {
    const id = [...(await clients(file)).keys()][0] as string;
    const holder = new Database(file);
    holder.prepare('BEGIN IMMEDIATE').run();
    try {
      const result = await cli(['client', 'disable', id, '--db', file]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe('express-client-credentials: the database is locked by another process; try again\n');
    } finally {
      holder.prepare('ROLLBACK').run();
      holder.close();
    }
    checkConsistent(file);
  });
});

describe('signing key crash safety', () => {
  it('leaves at most one active signing key after SIGKILL during first-key generation, and exactly one after the next start', async () => {
    const { dir, cleanup } = tempDir();
    const dist = join(__dirname, '..', '..', 'dist', 'index.js');
    /** Runs a process that opens `file` and makes sure a signing key exists; SIGKILLs it after `killAfterMs`. */
    const generate = (file: string, killAfterMs?: number) =>
      new Promise<{ ms: number; killed: boolean }>((resolve) => {
        const started = Date.now();
        const script = `const { createOAuth } = require(${JSON.stringify(dist)});
          const oauth = createOAuth({ issuer: 'https://auth.test', database: ${JSON.stringify(file)} });
          oauth.server.keys.getSigner().then(() => oauth.close());`;
        const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
        const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ ms: Date.now() - started, killed: code === null });
        });
      });
    const activeKeys = (file: string) => {
      const db = new Database(file);
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        const table = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'signing_keys'").get();
        return table ? (db.prepare<[], { n: number }>('SELECT count(*) AS n FROM signing_keys WHERE active = 1').get()?.n ?? 0) : 0;
      } finally {
        db.close();
      }
    };
    try {
      const full = await generate(join(dir, 'timing.sqlite'));
      const random = prng(9);
      let killed = 0;
      for (let run = 0; run < 4; run++) {
        const file = join(dir, `oauth-${run}.sqlite`);
        if ((await generate(file, Math.floor(full.ms * random()))).killed) killed++;
        if (existsSync(file)) expect(activeKeys(file)).toBeLessThanOrEqual(1);
        expect((await generate(file)).killed).toBe(false);
        expect(activeKeys(file)).toBe(1);
      }
      expect(killed).toBeGreaterThan(0);
    } finally {
      cleanup();
    }
  }, 120_000); // nine short-lived processes; a loaded machine needs more than the default bound
});

describe('key rotation crash safety', () => {
  it('leaves exactly one active key, and the old one published with a retirement time or untouched, after SIGKILL of key rotate', async () => {
    const { dir, cleanup } = tempDir();
    const file = join(dir, 'oauth.sqlite');
    type KeyRow = { kid: string; active: number; retire_at: number | null };
    const keys = (): KeyRow[] => {
      const db = new Database(file);
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        return db.prepare<[], KeyRow>('SELECT kid, active, retire_at FROM signing_keys ORDER BY kid').all();
      } finally {
        db.close();
      }
    };
    try {
      await SqliteStore.open(file).close();
      const started = Date.now();
      expect((await cli(['key', 'rotate', '--alg', 'ES256', '--db', file])).code).toBe(0);
      const fullMs = Date.now() - started;
      const random = prng(11);
      let killed = 0;
      for (let run = 0; run < 6; run++) {
        const before = keys();
        const result = await cli(['key', 'rotate', '--alg', 'ES256', '--db', file], Math.floor(fullMs * random()));
        if (result.killed) killed++;
        const after = keys();
        expect(after.filter((k) => k.active === 1)).toHaveLength(1);
        if (after.length === before.length) {
          expect(after).toEqual(before);
        } else {
          expect(after.length).toBe(before.length + 1);
          const previous = before.find((k) => k.active === 1) as KeyRow;
          expect(after.find((k) => k.kid === previous.kid)).toMatchObject({ active: 0, retire_at: expect.any(Number) });
        }
      }
      expect(killed).toBeGreaterThan(0);
    } finally {
      cleanup();
    }
  });
});

describe('SQLite store on a locked or read-only database', () => {
  let cleanup: () => void;
  let file: string;
  beforeEach(async () => {
    let dir: string;
    ({ dir, cleanup } = tempDir());
    file = join(dir, 'oauth.sqlite');
    await SqliteStore.open(file).close();
  });
  afterEach(() => cleanup());

  it('rejects a write with StoreError busy after the busy timeout when another connection holds the write lock', async () => {
    const store = SqliteStore.open(file, { busyTimeout: 100 });
    const holder = new Database(file);
    holder.prepare('BEGIN IMMEDIATE').run();
    try {
      const write = store.createClient(
        { id: 'c1', name: 'n', scopes: [], audiences: [], grantTypes: ['client_credentials'], tokenFormat: 'jwt', secretHash: '$2b$04$x' },
        1,
      );
      await expect(write).rejects.toEqual(new StoreError('busy', 'the database is locked by another process; try again'));
      expect(await store.getClient('c1')).toBeUndefined();
    } finally {
      holder.prepare('ROLLBACK').run();
      holder.close();
      await store.close();
    }
  });

  it('rejects a write with StoreError readonly on a read-only connection, and still reads', async () => {
    const store = new SqliteStore(new Database(file, { readonly: true }));
    const write = store.createClient(
      { id: 'c1', name: 'n', scopes: [], audiences: [], grantTypes: ['client_credentials'], tokenFormat: 'jwt', secretHash: '$2b$04$x' },
      1,
    );
    await expect(write).rejects.toEqual(new StoreError('readonly', 'the database is read-only'));
    expect(await store.listClients()).toEqual([]);
    store.db.close();
  });
});
