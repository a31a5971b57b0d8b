// Scopes: the RFC 6749 §3.3 scope-token grammar, parsing, formatting and the all-of / any-of checks.
import { formatScope, hasAllScopes, hasAnyScope, isScopeToken, normalizeScopes, parseScope } from '../../../lib/core/model/scope';

describe('scope grammar (RFC 6749 §3.3)', () => {
  it('accepts every visible ASCII character except " and \\ in a scope-token', () => {
    const allowed = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).filter((c) => c !== '"' && c !== '\\');
    expect(isScopeToken(allowed.join(''))).toBe(true);
    expect(isScopeToken('urn:example:read')).toBe(true);
  });

  it.each([['empty', ''], ['a space', 'a b'], ['a quote', 'a"b'], ['a backslash', 'a\\b'], ['a control character', 'a\tb'], ['DEL', 'a\x7f'], ['non-ASCII', 'lé'], ['not a string', 42]])(
    'rejects a scope-token with %s',
    (_case, value) => {
      expect(isScopeToken(value)).toBe(false);
    },
  );

  it('parses a space-delimited scope string into distinct tokens, in order', () => {
    expect(parseScope('write read write')).toEqual(['write', 'read']);
  });

  it.each([['empty', ''], ['a leading space', ' read'], ['a trailing space', 'read '], ['two spaces', 'read  write'], ['a tab', 'read\twrite'], ['a quote', 'read "x']])(
    'refuses a scope string with %s',
    (_case, value) => {
      expect(parseScope(value)).toBeUndefined();
    },
  );

  it('formats scopes as one space-delimited string', () => {
    expect(formatScope(['read', 'write'])).toBe('read write');
    expect(formatScope(new Set(['a']))).toBe('a');
  });

  it('normalizes an administrator\'s list or string, and names what was wrong', () => {
    expect(normalizeScopes(' read  write read ', 'scope')).toEqual(['read', 'write']);
    expect(normalizeScopes(['a', 'b', 'a'], 'scope')).toEqual(['a', 'b']);
    expect(normalizeScopes('', 'scope')).toEqual([]);
    expect(() => normalizeScopes('read wr"ite', 'scope')).toThrow(new TypeError('scope: "wr\\"ite" is not a valid scope (RFC 6749 §3.3 scope-token)'));
  });

  it('checks all-of and any-of', () => {
    const granted = new Set(['read', 'write']);
    expect(hasAllScopes(granted, ['read', 'write'])).toBe(true);
    expect(hasAllScopes(granted, ['read', 'admin'])).toBe(false);
    expect(hasAnyScope(granted, ['admin', 'write'])).toBe(true);
    expect(hasAnyScope(granted, ['admin'])).toBe(false);
  });
});
