// The CLI's expected failures and their exit statuses (apart from command.ts, so the context can throw them without an import cycle).

/** An expected failure of a command (unknown client, missing database): one line on stderr, exit status 1. */
export class CommandError extends Error {
  readonly exitCode: number = 1;

  constructor(
    message: string,
    /** Stable code for scripts (`--json` errors): e.g. `database_missing`; `failed` by default. */
    readonly code: string = 'failed',
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** Bad command-line input: one line on stderr pointing at the help, exit status 2; nothing was touched. */
export class UsageError extends CommandError {
  override readonly exitCode: number = 2;

  constructor(
    message: string,
    /** The command whose help to point at, e.g. `client create`; main.ts fills in the current one. */
    readonly helpFor?: string,
  ) {
    super(message, 'usage');
    this.name = 'UsageError';
  }
}
