// Scopes: the RFC 6749 §3.3 scope-token grammar, parsing, formatting and the all-of / any-of checks. Pure.

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), i.e. visible ASCII except `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** Whether `value` is one RFC 6749 §3.3 scope-token. */
export function isScopeToken(value: unknown): value is string {
  return typeof value === 'string' && SCOPE_TOKEN.test(value);
}

/**
 * Parses a space-delimited scope string (RFC 6749 §3.3: tokens separated by single spaces).
 * Returns the distinct tokens in order, or `undefined` when the string breaks the grammar
 * (empty, leading/trailing/double spaces, a forbidden character).
 */
export function parseScope(value: string): string[] | undefined {
  if (value.length === 0) return undefined;
  const tokens = value.split(' ');
  for (const token of tokens) if (!SCOPE_TOKEN.test(token)) return undefined;
  return [...new Set(tokens)];
}

/** Formats scopes as the space-delimited string of RFC 6749 §3.3 (and RFC 9068's `scope` claim). */
export function formatScope(scopes: Iterable<string>): string {
  return [...scopes].join(' ');
}

/**
 * Normalises a scope list given by a developer or an administrator (an array, or a space-delimited
 * string): distinct, in order. Throws `TypeError` naming `what` when a token breaks the grammar.
 */
export function normalizeScopes(input: string | readonly string[], what: string): string[] {
  const list = typeof input === 'string' ? (input.trim() === '' ? [] : input.trim().split(/ +/)) : [...input];
  for (const token of list) {
    if (!isScopeToken(token)) {
      throw new TypeError(`${what}: ${JSON.stringify(token)} is not a valid scope (RFC 6749 §3.3 scope-token)`);
    }
  }
  return [...new Set(list)];
}

/** Whether `granted` holds every scope in `required`. */
export function hasAllScopes(granted: ReadonlySet<string>, required: readonly string[]): boolean {
  for (const scope of required) if (!granted.has(scope)) return false;
  return true;
}

/** Whether `granted` holds at least one scope in `required`. */
export function hasAnyScope(granted: ReadonlySet<string>, required: readonly string[]): boolean {
  for (const scope of required) if (granted.has(scope)) return true;
  return false;
}
