#!/usr/bin/env node
// The express-client-credentials command line: `<noun> <command>` dispatched to the nouns in ./commands; the only code that reads argv; the environment comes from lib/env.ts.
import { appendFileSync, readFileSync } from 'node:fs';
import { jsonLinesAuditLogger } from '../audit-log';
import { join } from 'node:path';
import { once } from 'node:events';
import { userInfo } from 'node:os';
import { RegistryError } from '../core/admin/registry';
import { processEnvironment } from '../env';
import { DEFAULTS } from '../options';
import { StoreError } from '../store/types';
import { KeyEncryption, KeyEncryptionError, parseKeySecrets } from '../core/tokens/key-encryption';
import { CommandError, GLOBAL_OPTIONS, PROGRAM, UsageError, commandHelp, commandList, nounHelp, parseCommandLine, wantsHelp, type Noun } from './command';
import { clientNoun } from './commands/client';
import { keyNoun } from './commands/key';
import { groupNoun } from './commands/group';
import { tokenNoun } from './commands/token';
import { CliContext, type CliOutput } from './context';

/** Every noun of the CLI; a new group of commands is one more line here. */
export const NOUNS: readonly Noun[] = [
  clientNoun,
  keyNoun,
  groupNoun,
  tokenNoun,
];

/** What a run sees of its process: environment and output (injectable for in-process use). */
export interface CliEnvironment {
  env: Readonly<Record<string, string | undefined>>;
  output: CliOutput;
  now?: () => number;
}

function topHelp(): string {
  const globals = Object.entries(GLOBAL_OPTIONS).map(([name, spec]) =>
    name === 'help' ? '-h, --help' : `--${name}${spec.value ? ` ${spec.value}` : ''}`,
  );
  return [
    `Usage: ${PROGRAM} <noun> <command> [arguments] [options]`,
    '',
    'Manages the client registry of express-client-credentials (OAuth 2.0 client credentials, RFC 6749 §4.4), and gets tokens for scripts.',
    '',
    'Commands:',
    ...commandList(NOUNS),
    '',
    `Options of every command: ${globals.join(', ')}. '${PROGRAM} --version' prints the version.`,
    `Database: --db PATH (a SQLite file) or --db postgres://..., else $OAUTH_DB, else ${DEFAULTS.database}. New secrets are hashed at the database's bcrypt cost, which a new database takes from $OAUTH_BCRYPT_COST, else ${DEFAULTS.bcryptCost}.`,
    'Audit events of every change: one JSON line each, appended to $OAUTH_AUDIT_LOG when it is set.',
    'Private signing keys are encrypted with $OAUTH_KEY_SECRET when it is set (the server\'s keySecret; comma-separated, the first encrypts).',
    `Run '${PROGRAM} <noun> <command> --help' for the arguments and options of one command.`,
    '',
  ].join('\n');
}

function version(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return `${pkg.version}\n`;
}

/** OAUTH_KEY_SECRET: the server's keySecret, comma-separated when several (the first encrypts). */
function keyEncryptionFromEnv(env: CliEnvironment['env']): KeyEncryption | undefined {
  const value = env.OAUTH_KEY_SECRET;
  if (value === undefined || value.trim() === '') return undefined;
  try {
    return new KeyEncryption(parseKeySecrets(value));
  } catch (err) {
    // The message names the rule, never the secret.
    throw new UsageError(`OAUTH_KEY_SECRET: ${(err as Error).message}`);
  }
}

/**
 * One line for any failure, its stable `code` for scripts (`--json` prints both as JSON), and the
 * exit status; never a stack trace. Codes: `usage`, a command's own (`database_missing`, `failed`),
 * the registry's (`invalid`, `not_found`, `conflict`, `precondition_failed`), `database_<store code>`
 * (`database_unavailable`, `database_busy`, ...), `key_secret`, and `internal` for anything unexpected.
 */
function describeFailure(err: unknown, helpFor: string | undefined): { line: string; code: string; exitCode: number } {
  if (err instanceof UsageError) {
    const target = err.helpFor ?? helpFor;
    const hint = target === undefined ? '--help' : `${target} --help`;
    return { line: `${err.message} (see '${PROGRAM} ${hint}')`, code: 'usage', exitCode: err.exitCode };
  }
  if (err instanceof CommandError) return { line: err.message, code: err.code, exitCode: err.exitCode };
  if (err instanceof RegistryError) return { line: err.message, code: err.code, exitCode: 1 };
  if (err instanceof StoreError) return { line: err.message, code: `database_${err.code}`, exitCode: 1 };
  if (err instanceof KeyEncryptionError) return { line: err.message, code: 'key_secret', exitCode: 1 };
  const message = err instanceof Error ? err.message : String(err);
  return { line: `unexpected failure: ${message}`, code: 'internal', exitCode: 1 };
}

/**
 * Takes the options every command takes (`--db PATH`, `--db=PATH`, `--json`) from anywhere on the
 * line, before `--`, so `--json client list` and `client --db x list` work as `client list --json`.
 * Returns the line without them and the options as they go back after the command's own arguments.
 */
export function extractGlobalOptions(argv: readonly string[]): { rest: string[]; globals: string[]; json: boolean } {
  const rest: string[] = [];
  const globals: string[] = [];
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg === '--json') {
      json = true;
      globals.push(arg);
    } else if (arg.startsWith('--db=')) {
      globals.push(arg);
    } else if (arg === '--db' && i + 1 < argv.length) {
      globals.push(arg, argv[i + 1] as string);
      i++;
    } else {
      rest.push(arg);
    }
  }
  return { rest, globals, json };
}

/** The user running the CLI, for the audit events: the OS account, else $USER / $USERNAME. */
function currentUser(env: CliEnvironment['env']): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? env.USERNAME;
  }
}

/**
 * Runs one command line (without the `node` and script arguments) and resolves with the exit status:
 * 0 on success, 1 when the command failed, 2 on bad usage.
 */
export async function main(argv: readonly string[], environment: CliEnvironment): Promise<number> {
  const { output } = environment;
  const { rest: line, globals, json } = extractGlobalOptions(argv);
  const [nounName, verb, ...own] = line;
  // The global options go back before a `--`, which ends the options.
  const end = own.indexOf('--');
  const rest = end < 0 ? [...own, ...globals] : [...own.slice(0, end), ...globals, ...own.slice(end)];
  let helpFor: string | undefined;
  let ctx: CliContext | undefined;
  try {
    if (nounName === undefined || nounName === '--help' || nounName === '-h' || nounName === 'help') {
      // Without any argument the help is the answer to a usage error: stderr, status 2.
      if (nounName === undefined) output.err(topHelp());
      else output.out(topHelp());
      return nounName === undefined ? 2 : 0;
    }
    if (nounName === '--version') {
      output.out(version());
      return 0;
    }
    const noun = NOUNS.find((n) => n.name === nounName);
    if (!noun) throw new UsageError(`unknown command ${JSON.stringify(nounName)}`);
    if (verb === undefined || verb === '--help' || verb === '-h') {
      if (verb === undefined) output.err(nounHelp(noun));
      else output.out(nounHelp(noun));
      return verb === undefined ? 2 : 0;
    }
    const command = Object.hasOwn(noun.commands, verb) ? noun.commands[verb] : undefined;
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(`${noun.name} ${verb}`)}`, noun.name);
    helpFor = `${noun.name} ${verb}`;
    if (wantsHelp(rest)) {
      output.out(commandHelp(noun, verb, command));
      return 0;
    }
    const input = parseCommandLine(command, rest, helpFor);
    const database = (input.options.db as string | undefined) ?? (environment.env.OAUTH_DB || DEFAULTS.database);
    const cost = environment.env.OAUTH_BCRYPT_COST;
    const bcryptCost = cost ? Number(cost) : undefined;
    if (bcryptCost !== undefined && (!Number.isInteger(bcryptCost) || bcryptCost < 4 || bcryptCost > 31)) {
      throw new UsageError('OAUTH_BCRYPT_COST must be an integer from 4 to 31');
    }
    ctx = new CliContext(
      database,
      input.options.json === true,
      output,
      environment.now,
      bcryptCost,
      environment.env,
      keyEncryptionFromEnv(environment.env),
      currentUser(environment.env),
    );
    // OAUTH_AUDIT_LOG: a file the CLI appends its audit events to, one JSON line each (no secrets).
    const auditLog = environment.env.OAUTH_AUDIT_LOG;
    if (auditLog) ctx.events.on('audit', jsonLinesAuditLogger({ write: (line) => appendFileSync(auditLog, line) }));
    await command.run(input, ctx);
    await ctx.close(false);
    return 0;
  } catch (err: unknown) {
    await ctx?.close(true).catch(() => undefined);
    const { line: message, code, exitCode } = describeFailure(err, helpFor);
    const description = message.replace(/\s*\n\s*/g, ' ');
    // Under --json a script reads the failure as JSON with a stable code, not a sentence.
    if (json) output.err(`${JSON.stringify({ error: code, error_description: description })}\n`);
    else output.err(`${PROGRAM}: ${description}\n`);
    return exitCode;
  }
}

if (require.main === module) {
  const output: CliOutput = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    // Honour stdout's backpressure: a streamed listing waits for the reader instead of buffering.
    drain: () => (process.stdout.writableNeedDrain ? once(process.stdout, 'drain').then(() => undefined) : Promise.resolve()),
  };
  void main(process.argv.slice(2), { env: processEnvironment(), output }).then((code) => {
    process.exitCode = code;
  });
}
