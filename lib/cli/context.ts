// What a CLI command runs against: its output streams and the database, opened on demand and removed again if this run created it and failed.
import { existsSync, rmSync } from 'node:fs';
import { AuditEmitter, type AuditRecorder } from '../core/model/events';
import { ClientRegistry, MAX_TOKEN_LIFETIME } from '../core/admin/registry';
import { TokenAdmin } from '../core/admin/token-admin';
import { GroupRegistry } from '../core/admin/group-registry';
import { DEFAULTS } from '../options';
import { SqliteStore } from '../store/sqlite';
import { PostgresStore, isPostgresUrl } from '../store/postgres/store';
import type { KeyEncryption } from '../core/tokens/key-encryption';
import type { Store } from '../store/types';
import { CommandError } from './errors';

/** Where a command writes. Secrets go to `out` only. */
export interface CliOutput {
  /** Standard output: results, and a new secret exactly once. */
  out(text: string): void;
  /** Standard error: notes and errors; never a secret. */
  err(text: string): void;
  /**
   * Resolves once standard output has taken what was written (a long listing waits for a slow
   * reader here rather than buffering the whole registry in memory). Optional: in-memory outputs need none.
   */
  drain?(): Promise<void>;
}

/** The database and output of one CLI run. */
export class CliContext {
  private store: Store | undefined;
  private createdDatabase = false;

  constructor(
    /** The database: `--db`, else env `OAUTH_DB`, else ./oauth.sqlite; a SQLite file or a postgres:// URL. */
    readonly database: string,
    /** Whether `--json` was given. */
    readonly json: boolean,
    private readonly output: CliOutput,
    /** Current time, epoch ms. */
    readonly now: () => number = Date.now,
    /**
     * env `OAUTH_BCRYPT_COST`: the cost written into a new database. The database's stored cost is
     * what every process uses (issue 10.12); a differing explicit one is an error, not a silent change.
     */
    readonly bcryptCost: number | undefined = undefined,
    /** The process environment, for commands that read a secret from it (`token get`). */
    readonly env: Readonly<Record<string, string | undefined>> = {},
    /** Seals and opens private signing keys: env `OAUTH_KEY_SECRET`, the server's `keySecret`. */
    readonly keyEncryption: KeyEncryption | undefined = undefined,
    /** The operating-system user running the CLI, named in the audit events as the actor. */
    user: string | undefined = undefined,
  ) {
    this.events = new AuditEmitter(now, (err) => this.note(`audit log failed: ${err instanceof Error ? err.message : String(err)}`));
    this.audit = this.events.as({ via: 'cli', user });
  }

  /** Audit events of this run's changes, as the server emits them for changes made through it. */
  readonly events: AuditEmitter;
  /** Records this run's audit events with the CLI and its user as the actor. */
  readonly audit: AuditRecorder;

  /** Waits until stdout has taken what was printed (see {@link CliOutput.drain}). */
  async drain(): Promise<void> {
    await this.output.drain?.();
  }

  /** Writes raw text on stdout (a streamed listing). */
  write(text: string): void {
    this.output.out(text);
  }

  /** Prints one line (or block) of text on stdout. */
  print(text: string): void {
    this.output.out(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Prints a value as JSON on stdout. */
  printJson(value: unknown): void {
    this.output.out(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Prints a note for the person at the terminal on stderr. */
  note(text: string): void {
    this.output.err(`${text}\n`);
  }

  /**
   * The store. Only a command that adds something may create the database file (`create: true`);
   * every other command on a missing file fails, so a typo in `--db` changes nothing on disk.
   */
  openStore(options: { create?: boolean } = {}): Store {
    if (this.store) return this.store;
    if (isPostgresUrl(this.database)) {
      // A server, not a file: nothing to create or remove; the schema is migrated on first use.
      // The CLI waits longer than the server would, as for a locked SQLite file.
      this.store = PostgresStore.open(this.database, { connectionTimeout: 5000, statementTimeout: 10_000 });
      return this.store;
    }
    const exists = existsSync(this.database);
    if (!exists && !options.create) {
      throw new CommandError(`no database at ${this.database} (give --db PATH or set OAUTH_DB)`, 'database_missing');
    }
    // Created owner-only like the server's; a permission warning goes to stderr.
    this.store = SqliteStore.open(this.database, { onWarning: (message) => this.note(`warning: ${message}`) });
    this.createdDatabase = !exists;
    return this.store;
  }

  /** The client registry on {@link openStore}'s store, hashing new secrets at the database's bcrypt cost. */
  clients(options: { create?: boolean } = {}): ClientRegistry {
    const store = this.openStore(options);
    return new ClientRegistry(store, { bcryptCost: () => this.storedBcryptCost(store), clock: this.now }, this.audit);
  }

  /** The database's bcrypt cost (written from OAUTH_BCRYPT_COST, else the default, on a new database). */
  private async storedBcryptCost(store: Store): Promise<number> {
    const stored = await store.bcryptCost(this.bcryptCost ?? DEFAULTS.bcryptCost);
    if (this.bcryptCost !== undefined && stored !== this.bcryptCost) {
      throw new CommandError(
        `OAUTH_BCRYPT_COST=${this.bcryptCost} but the database hashes secrets at cost ${stored}; unset it (the database's cost is used by the server and the CLI alike)`,
      );
    }
    return stored;
  }

  /** Group and membership administration on {@link openStore}'s store. */
  groups(options: { create?: boolean } = {}): GroupRegistry {
    return new GroupRegistry(this.openStore(options), { clock: this.now }, this.audit);
  }

  /**
   * Operator revocation and live reference tokens. The CLI does not know the server's token lifetime:
   * a JWT revoked by jti stays listed for the longest any instance may issue (a day) plus 5 minutes
   * of clock tolerance.
   */
  tokens(): TokenAdmin {
    return new TokenAdmin(
      this.openStore(),
      { now: this.now, keepRevokedJwtMs: (MAX_TOKEN_LIFETIME + 300) * 1000, clockToleranceMs: 300 * 1000 },
      this.audit,
    );
  }

  /** Closes the database; after a failure, removes the file again if this run created it. */
  async close(failed: boolean): Promise<void> {
    const store = this.store;
    this.store = undefined;
    await store?.close();
    if (failed && this.createdDatabase) {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${this.database}${suffix}`, { force: true });
    }
  }
}
