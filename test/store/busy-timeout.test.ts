// How long a write waits for a database another process holds (SQLite's busy timeout): 100 ms in a server, 5 s in the CLI, as the README says.
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { createOAuth, DEFAULTS } from '../../lib';
import { openSqliteDatabase } from '../../lib/store/sqlite';
import { CliContext } from '../../lib/cli/context';
import { ISSUER, memoryLogger, tempDir } from '../helpers';

const busyTimeoutOf = (db: Database.Database) => db.pragma('busy_timeout', { simple: true });
const dbOf = (store: unknown) => (store as { db: Database.Database }).db;

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.cleanup());

describe('busy timeout', () => {
  it('is 100 ms in a server by default (busyTimeout), so a request waits little before its 503', async () => {
    expect(DEFAULTS.busyTimeout).toBe(100);
    const oauth = createOAuth({ issuer: ISSUER, database: join(dir.dir, 'a.sqlite'), logger: memoryLogger() });
    const tuned = createOAuth({ issuer: ISSUER, database: join(dir.dir, 'b.sqlite'), logger: memoryLogger(), busyTimeout: 250 });
    try {
      expect(busyTimeoutOf(dbOf(oauth.server.store))).toBe(100);
      expect(busyTimeoutOf(dbOf(tuned.server.store))).toBe(250);
    } finally {
      await oauth.close();
      await tuned.close();
    }
  });

  it('is 5 s in the CLI and in openSqliteDatabase(), where a person waits rather than a request', async () => {
    const ctx = new CliContext(join(dir.dir, 'cli.sqlite'), false, { out: () => undefined, err: () => undefined });
    try {
      expect(busyTimeoutOf(dbOf(ctx.openStore({ create: true })))).toBe(5000);
    } finally {
      await ctx.close(false);
    }
    const db = openSqliteDatabase(join(dir.dir, 'own.sqlite'));
    try {
      expect(busyTimeoutOf(db)).toBe(5000);
    } finally {
      db.close();
    }
  });
});
