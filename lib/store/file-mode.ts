// Owner-only database files: created 0600 before SQLite opens them, and an existing file other users can reach tightened (or refused).
import { chmodSync, closeSync, openSync, rmSync, statSync } from 'node:fs';
import { StoreError } from '../core/model/store-error';

/** The database and the side files SQLite keeps next to it in WAL mode. */
const SUFFIXES = ['', '-wal', '-shm'];

function code(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code;
}

/**
 * Makes the database at `path` owner-only before SQLite opens it. The file holds private signing keys
 * and client secret hashes, and SQLite creates files with mode 0644 under the usual umask 022 (its
 * -wal and -shm copy the database's mode). So:
 *
 * - each of the three files that does not exist yet is created empty with mode 0600 (exclusively, so a
 *   file another process just made is never truncated; an empty -wal and -shm are valid to SQLite).
 *   The process-wide umask is left alone.
 * - an existing file any user may access (a world bit set) is tightened to drop those bits, with a
 *   warning: its keys may have been copied already, so rotate them. When it cannot be tightened (another
 *   user owns it), opening is refused.
 * - an existing file its group may access is left as it is (a backup group is a deliberate choice), with a warning.
 *
 * Skipped for `:memory:`, `file:` URIs and on Windows, where modes mean nothing. Returns the files it
 * created, for the caller to remove when opening fails after all.
 */
export function secureDatabaseFiles(path: string, warn: (message: string) => void): string[] {
  const created: string[] = [];
  if (process.platform === 'win32' || path === ':memory:' || path === '' || path.startsWith('file:')) return created;
  for (const suffix of SUFFIXES) {
    const file = `${path}${suffix}`;
    try {
      closeSync(openSync(file, 'wx', 0o600));
      created.push(file);
      continue;
    } catch (err) {
      // A missing directory is reported by the open that follows, with the usual message.
      if (code(err) === 'ENOENT') return created;
      if (code(err) !== 'EEXIST') throw err;
    }
    const stat = statSync(file);
    // A directory (a --db typo) is no database: left untouched, for the open that follows to refuse.
    if (!stat.isFile()) return created;
    const mode = stat.mode & 0o777;
    if ((mode & 0o007) !== 0) {
      try {
        chmodSync(file, mode & 0o770);
      } catch (err) {
        throw new StoreError(
          'insecure',
          `the database file ${file} is accessible to every user (mode ${mode.toString(8)}) and cannot be tightened: it holds private signing keys; run chmod 600 on it`,
          { cause: err },
        );
      }
      warn(
        `the database file ${file} was accessible to every user (mode ${mode.toString(8)}); it is now ${(mode & 0o770).toString(8)}. ` +
          'Its private signing keys may have been copied: rotate them (key rotate), and consider keySecret / OAUTH_KEY_SECRET',
      );
    } else if ((mode & 0o070) !== 0) {
      warn(`the database file ${file} is accessible to its group (mode ${mode.toString(8)}); it holds private signing keys: chmod 600 unless that is deliberate`);
    }
  }
  return created;
}

/** Removes files {@link secureDatabaseFiles} created that are still empty (the open failed): bad input leaves nothing behind. */
export function removeCreatedFiles(files: readonly string[]): void {
  for (const file of files) {
    try {
      if (statSync(file).size === 0) rmSync(file, { force: true });
    } catch {
      // already gone
    }
  }
}
