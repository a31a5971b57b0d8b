// The validation toolkit of every option family: typed checks that throw TypeError when an option is set up, never on a request.
import { isScopeToken, normalizeScopes } from '../core/model/scope';
import type { Logger } from '../core/model/logger';

/**
 * Checks one option value and returns it as the resolved options hold it. `In` is what a caller may
 * pass (the public option type), `Out` what the resolution produces; a misuse throws `TypeError`
 * naming the option.
 */
export interface Check<In, Out = In> {
  (value: unknown, name: string): Out;
  /** Phantom: carries the accepted input type into the option interfaces; never set. */
  readonly input?: In;
}

function check<In, Out = In>(fn: (value: unknown, name: string) => Out): Check<In, Out> {
  return fn as Check<In, Out>;
}

/** An integer within `min..max` (inclusive). */
export function integer(min: number, max: number): Check<number> {
  return check((value, name) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new TypeError(`${name} must be an integer from ${min} to ${max}`);
    }
    return value;
  });
}

/** A finite number ≥ 0 (durations that may be fractional). */
export function nonNegativeNumber(): Check<number> {
  return check((value, name) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new TypeError(`${name} must be a non-negative number`);
    return value;
  });
}

/** A real boolean: `Boolean('false')` is true, and a security switch must not flip on a typo (issue 10.11). */
export function boolean(): Check<boolean> {
  return check((value, name) => {
    if (typeof value !== 'boolean') throw new TypeError(`${name} must be true or false`);
    return value;
  });
}

/** A non-empty string. */
export function nonEmptyString(): Check<string> {
  return check((value, name) => {
    if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
    return value;
  });
}

/** A string matching `pattern`, described as `what` in the error. */
export function matching(pattern: RegExp, what: string): Check<string> {
  return check((value, name) => {
    if (typeof value !== 'string' || !pattern.test(value)) throw new TypeError(`${name} must be ${what}, not ${JSON.stringify(value)}`);
    return value;
  });
}

/** A file path (any non-empty string). */
export function filePath(): Check<string> {
  return check((value, name) => {
    if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a file path`);
    return value;
  });
}

/** Where the store lives: a SQLite file path, or a `postgres://` / `postgresql://` URL that parses. */
export function databaseLocation(): Check<string> {
  return check((value, name) => {
    if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a file path or a postgres:// URL`);
    if (/^postgres(ql)?:\/\//i.test(value) && !URL.canParse(value)) throw new TypeError(`${name} is not a valid postgres:// URL`);
    return value;
  });
}

/** One of a fixed list of strings. */
export function oneOf<T extends string>(values: readonly T[]): Check<T> {
  return check((value, name) => {
    if (!values.includes(value as T)) throw new TypeError(`${name} must be ${values.map((v) => `"${v}"`).join(' or ')}`);
    return value as T;
  });
}

/** An URL path starting with `/`, without whitespace, query or fragment. */
export function urlPath(): Check<string> {
  return check((value, name) => {
    if (typeof value !== 'string' || !value.startsWith('/') || /[\s?#]/.test(value)) {
      throw new TypeError(`${name} must be a path starting with "/"`);
    }
    checkRoutable(value, name);
    return value;
  });
}

/**
 * A path that becomes an Express route is matched literally only when it has no character Express's
 * path syntax reads (`:name`, `*`, `(`, `?`, `{`, `!`, ...): each segment is RFC 3986 unreserved
 * characters, so what the metadata publishes is what the router answers at.
 */
function checkRoutable(path: string, name: string): void {
  if (!/^(\/[A-Za-z0-9\-._~]*)*$/.test(path)) {
    throw new TypeError(
      `${name} must be made of "/" and the characters A-Z a-z 0-9 - . _ ~ (it becomes an Express route; "${path}" has one Express would read as route syntax)`,
    );
  }
}

/** RFC 7235 §2.2 realm: a quoted-string we write verbatim, so printable ASCII only. */
export function realm(): Check<string> {
  return check((value, name) => {
    if (typeof value !== 'string' || !/^[\x20-\x7E]*$/.test(value)) {
      throw new TypeError(`${name} must be a string of printable ASCII characters`);
    }
    return value;
  });
}

/** RFC 8414 §2: an https URL without query or fragment; plain http only for loopback development. */
export function validateIssuer(value: unknown, name = 'issuer'): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a URL string`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${name} must be an absolute URL`);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new TypeError(`${name} must use https (http is allowed only for localhost)`);
  }
  if (url.search !== '' || url.hash !== '' || value.includes('?') || value.includes('#')) {
    throw new TypeError(`${name} must not have a query or fragment (RFC 8414 §2)`);
  }
  return value;
}

/** An issuer identifier, see {@link validateIssuer}. */
export function issuerUrl(): Check<string> {
  return check(validateIssuer);
}

/** The issuer of an instance we serve: its path becomes the prefix of the token router's routes, so it must be routable. */
export function servedIssuerUrl(): Check<string> {
  return check((value, name) => {
    const issuer = validateIssuer(value, name);
    checkRoutable(new URL(issuer).pathname.replace(/\/+$/, ''), `the path of ${name}`);
    return issuer;
  });
}

/** Audiences: one string or a non-empty list of non-empty strings, resolved to a list. */
export function audienceList(): Check<string | readonly string[], readonly string[]> {
  return check((value) => {
    const audiences: unknown[] = typeof value === 'string' ? [value] : Array.isArray(value) ? [...(value as unknown[])] : [];
    if (audiences.length === 0 || audiences.some((a) => typeof a !== 'string' || a === '')) {
      throw new TypeError('audience must be a non-empty string or array of strings');
    }
    return audiences as string[];
  });
}

/** One RFC 6749 §3.3 scope-token. */
export function scopeToken(): Check<string> {
  return check((value, name) => normalizeScopes([value as string], name)[0] as string);
}

/** One RFC 6749 §3.3 scope-token, with a message naming where it is used. */
export function singleScope(what: string): Check<string> {
  return check((value) => {
    if (typeof value !== 'string' || !isScopeToken(value)) throw new TypeError(`${what} must be one RFC 6749 §3.3 scope-token`);
    return value;
  });
}

/** A list of RFC 6749 §3.3 scope-tokens, normalized (deduplicated). */
export function scopeList(): Check<readonly string[], string[]> {
  return check((value, name) => {
    if (!Array.isArray(value)) throw new TypeError(`${name} must be an array of scopes`);
    return normalizeScopes([...(value as string[])], name);
  });
}

/** A function (a clock, a callback). */
export function func<F extends (...args: never[]) => unknown>(): Check<F> {
  return check((value, name) => {
    if (typeof value !== 'function') throw new TypeError(`${name} must be a function`);
    return value as F;
  });
}

/** An object with the named methods (a store, a logger). */
export function withMethods<T>(message: string, ...methods: string[]): Check<T> {
  return check((value) => {
    if (typeof value !== 'object' || value === null) throw new TypeError(message);
    for (const method of methods) {
      if (typeof (value as Record<string, unknown>)[method] !== 'function') throw new TypeError(message);
    }
    return value as T;
  });
}

/** A logger: `warn()` and `error()`. */
export function logger(): Check<Logger> {
  return withMethods<Logger>('logger must have warn() and error()', 'warn', 'error');
}

/** A plain options object (anything but null and arrays is taken as one). */
export function optionsObject(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) throw new TypeError(`${name} must be an object`);
  return value as Record<string, unknown>;
}

/** A nested option object, checked by `resolve`. */
export function nested<In, Out>(resolve: (value: In) => Out): Check<In, Out> {
  return check((value, name) => resolve(optionsObject(value, name) as In));
}

// ---- Option tables and their resolution ----

/**
 * One option. `check` validates a given value (and a static default) and fixes its type; `default`
 * is the static default exported in `DEFAULTS` (under `defaultsKey` when that differs from the
 * option's name); `defaultText` replaces the README's default cell when the default is computed;
 * `type` and `description` are the README's cells. `required` and `optional` (no default: the
 * resolved value may be `undefined`) shape the option types.
 */
export interface OptionSpec<In = unknown, Out = unknown> {
  readonly check: Check<In, Out>;
  readonly default?: Out;
  readonly defaultsKey?: string;
  readonly defaultText?: string;
  readonly type: string;
  readonly description: string;
  readonly required?: true;
  readonly optional?: true;
}

/** The options of one family, by name, in README order. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type OptionTable = Readonly<Record<string, OptionSpec<any, any>>>;

type InputOf<S> = S extends { check: Check<infer In, unknown> } ? In : never;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type OutputOf<S> = S extends { check: Check<any, infer Out> } ? Out : never;
type RequiredKeys<T> = { [K in keyof T]: T[K] extends { required: true } ? K : never }[keyof T];
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** What a caller may pass for a table: every option optional but the `required` ones. */
export type OptionsOf<T> = Simplify<{ [K in Exclude<keyof T, RequiredKeys<T>>]?: InputOf<T[K]> } & { [K in RequiredKeys<T>]: InputOf<T[K]> }>;

/** What the resolution of a table yields: every option set, but `optional` ones may stay `undefined`. */
export type ResolvedOf<T> = { [K in keyof T]: T[K] extends { optional: true } ? OutputOf<T[K]> | undefined : OutputOf<T[K]> };

/**
 * Resolves `options` against `table`, in table order: a given value is checked; else a computed
 * default (from `defaults`, given the options resolved so far; trusted, already resolved) is used;
 * else the table's static default, checked too. `prefix` goes before option names in messages.
 * Unknown keys are ignored, as they always were.
 */
export function resolveTable<T extends OptionTable>(
  table: T,
  options: object,
  prefix = '',
  defaults: { readonly [K in keyof T]?: (resolved: Partial<ResolvedOf<T>>) => unknown } = {},
): ResolvedOf<T> {
  const given = options as Record<string, unknown>;
  const resolved: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(table)) {
    const value = given[name];
    const computed = defaults[name as keyof T];
    if (value !== undefined) resolved[name] = spec.check(value, prefix + name);
    else if (computed !== undefined) resolved[name] = computed(resolved as Partial<ResolvedOf<T>>);
    else if (spec.default !== undefined) resolved[name] = spec.check(spec.default, prefix + name);
    else if (spec.required) throw new TypeError(`${prefix}${name} is required`);
    else resolved[name] = undefined;
  }
  return resolved as ResolvedOf<T>;
}

/** The static defaults of a table, by name (or `defaultsKey`). */
export type DefaultsOf<T> = {
  readonly [K in keyof T as T[K] extends { default: unknown } ? (T[K] extends { defaultsKey: infer D extends string } ? D : K) : never]: T[K] extends {
    default: infer V;
  }
    ? V
    : never;
};

/** Collects the static defaults of `tables` into one frozen object; two different defaults under one name are a bug in the tables. */
export function collectDefaults<D>(tables: readonly OptionTable[]): D {
  const defaults: Record<string, unknown> = {};
  for (const table of tables) {
    for (const [name, spec] of Object.entries(table)) {
      if (spec.default === undefined) continue;
      const key = spec.defaultsKey ?? name;
      if (key in defaults && defaults[key] !== spec.default) throw new Error(`two defaults for ${key}`);
      defaults[key] = spec.default;
    }
  }
  return Object.freeze(defaults) as D;
}

/** A finite number within `min..max`, fractions allowed. */
export function numberBetween(min: number, max: number): Check<number> {
  return check((value, name) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      throw new TypeError(`${name} must be a number from ${min} to ${max}`);
    }
    return value;
  });
}

/** An absolute http(s) URL; whether plain http is allowed is decided with the other options. */
export function httpUrl(): Check<string> {
  return check((value, name) => {
    if (typeof value !== 'string') throw new TypeError(`${name} must be a URL string`);
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new TypeError(`${name} must be an absolute URL, not ${JSON.stringify(value)}`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`${name} must be an https URL`);
    return value;
  });
}
