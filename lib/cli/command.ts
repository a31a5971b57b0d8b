// How CLI commands are declared (a noun and its verbs), how their arguments are parsed (node:util parseArgs) and how their help reads.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CliContext } from './context';

/** The installed command's name, as help and errors spell it. */
export const PROGRAM = 'express-client-credentials';

/** One `--option` of a command. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  /** Placeholder shown in help for a string option, e.g. `NAME`. */
  value?: string;
  description: string;
  /** A string option the command cannot run without. */
  required?: boolean;
}

/** What a command receives: its positional arguments by name and its options by name. */
export interface CommandInput {
  args: Record<string, string | undefined>;
  options: Record<string, string | boolean | undefined>;
}

/** One verb of a noun, e.g. `client create`. */
export interface Command {
  summary: string;
  /** Positional argument names in order, e.g. `['ID', 'SCOPE']`; a trailing `?` makes one optional. */
  args?: readonly string[];
  options?: Readonly<Record<string, OptionSpec>>;
  /** Further help lines (defaults, examples). */
  details?: readonly string[];
  run(input: CommandInput, ctx: CliContext): Promise<void>;
}

/** A group of commands on one kind of thing, e.g. `client`; main.ts lists every noun. */
export interface Noun {
  name: string;
  summary: string;
  commands: Readonly<Record<string, Command>>;
}

import { UsageError } from './errors';

export { CommandError, UsageError } from './errors';

/** Options every command takes. */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  db: { type: 'string', value: 'PATH|URL', description: 'SQLite database file or postgres:// URL (default: $OAUTH_DB, else ./oauth.sqlite)' },
  json: { type: 'boolean', description: 'print JSON for scripts' },
  help: { type: 'boolean', description: 'show this help' },
};

/** Whether `argv` asks for help (`--help` / `-h` before any `--`). */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}

/** Turns node:util's parse errors into one short line. */
function parseErrorMessage(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  const option = /'(-[^' ]+)/.exec(message)?.[1] ?? 'an option';
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      // A long base64url word is more likely an id that starts with "--" than a misspelt option.
      if (/^--[\w-]{20,}$/.test(option)) return `unknown option ${option} (put an argument that starts with "--" after "--")`;
      return `unknown option ${option}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (message.includes('does not take an argument')) return `${option} takes no value`;
      if (message.includes('ambiguous')) return `${option} needs a value (write ${option}=VALUE for a value starting with "-")`;
      return `${option} needs a value`;
    default:
      return message.split('\n')[0] ?? 'invalid arguments';
  }
}

/**
 * Moves arguments that start with a single `-` (a key id or token id is base64url, so one in 64
 * does) behind a `--`, so parseArgs reads them as positional arguments, not as short options. Only
 * `-h` is a short option here. A string option's value stays with its option; `--anything` stays an
 * option, so a misspelt option is still reported as one.
 */
function withDashedArguments(argv: readonly string[], specs: Readonly<Record<string, OptionSpec>>): string[] {
  const flags: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (/^-[^-]/.test(arg) && arg !== '-h') {
      positionals.push(arg);
      continue;
    }
    flags.push(arg);
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : undefined;
    if (name !== undefined && specs[name]?.type === 'string' && i + 1 < argv.length) flags.push(argv[++i] as string);
  }
  return positionals.length === 0 ? flags : [...flags, '--', ...positionals];
}

/**
 * Parses a command's arguments strictly: unknown or repeated options, missing values and a wrong
 * number of positional arguments are {@link UsageError}s.
 */
export function parseCommandLine(command: Command, argv: readonly string[], helpFor: string): CommandInput {
  const specs = { ...(command.options ?? {}), ...GLOBAL_OPTIONS };
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, spec] of Object.entries(specs)) options[name] = { type: spec.type };
  options.help = { type: 'boolean', short: 'h' };
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true; tokens: true }>>;
  try {
    parsed = parseArgs({ args: withDashedArguments(argv, specs), options, allowPositionals: true, strict: true, tokens: true });
  } catch (err: unknown) {
    throw new UsageError(parseErrorMessage(err), helpFor);
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue;
    if (seen.has(token.name)) throw new UsageError(`--${token.name} was given more than once`, helpFor);
    seen.add(token.name);
    if (token.value === '' && specs[token.name]?.type === 'string') {
      throw new UsageError(`--${token.name} needs a non-empty value`, helpFor);
    }
  }
  for (const [name, spec] of Object.entries(command.options ?? {})) {
    if (spec.required && parsed.values[name] === undefined) {
      throw new UsageError(`missing --${name}${spec.value ? ` ${spec.value}` : ''}`, helpFor);
    }
  }
  const names = command.args ?? [];
  const positionals = parsed.positionals;
  const required = names.filter((n) => !n.endsWith('?'));
  if (positionals.length < required.length) {
    throw new UsageError(`missing argument ${required[positionals.length]}`, helpFor);
  }
  if (positionals.length > names.length) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[names.length])}`, helpFor);
  }
  const args: Record<string, string | undefined> = {};
  names.forEach((name, i) => (args[name.replace(/\?$/, '')] = positionals[i]));
  return { args, options: parsed.values as Record<string, string | boolean | undefined> };
}

function optionLines(specs: Readonly<Record<string, OptionSpec>>): string[] {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const flag = name === 'help' ? '-h, --help' : `--${name}${spec.value ? ` ${spec.value}` : ''}`;
    return [flag, spec.description] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return rows.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`);
}

function usageLine(noun: Noun, verb: string, command: Command): string {
  const args = (command.args ?? []).map((a) => (a.endsWith('?') ? `[${a.slice(0, -1)}]` : a));
  const required = Object.entries(command.options ?? {})
    .filter(([, spec]) => spec.required)
    .map(([name, spec]) => `--${name}${spec.value ? ` ${spec.value}` : ''}`);
  return [PROGRAM, noun.name, verb, ...args, ...required, '[options]'].join(' ');
}

/** Help for one command: usage, summary, its options, then the options every command takes. */
export function commandHelp(noun: Noun, verb: string, command: Command): string {
  return [
    `Usage: ${usageLine(noun, verb, command)}`,
    '',
    command.summary,
    ...(command.details && command.details.length > 0 ? ['', ...command.details] : []),
    '',
    'Options:',
    ...optionLines({ ...(command.options ?? {}), ...GLOBAL_OPTIONS }),
    '',
  ].join('\n');
}

/** The verbs of every noun given, one line each. */
export function commandList(nouns: readonly Noun[]): string[] {
  const rows = nouns.flatMap((noun) =>
    Object.entries(noun.commands).map(([verb, command]) => [`${noun.name} ${verb}`, command.summary] as const),
  );
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`);
}

/** Help for a noun: its verbs. */
export function nounHelp(noun: Noun): string {
  return [
    `Usage: ${PROGRAM} ${noun.name} <command> [arguments] [options]`,
    '',
    noun.summary,
    '',
    'Commands:',
    ...commandList([noun]),
    '',
    `Run '${PROGRAM} ${noun.name} <command> --help' for the arguments and options of one command.`,
    '',
  ].join('\n');
}
