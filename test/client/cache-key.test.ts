// The token client's cache key and WWW-Authenticate reading: pure functions, no network.
import { normalizeResources, normalizeScopes, tokenRequestShape } from '../../lib/client/cache-key';
import { bearerError } from '../../lib/client/challenge';
import { backoffDelay, parseRetryAfter } from '../../lib/client/backoff';

describe('token client cache key', () => {
  it('treats the scope as a set: order and repetition do not change the key (RFC 6749 §3.3)', () => {
    expect(normalizeScopes('write read  read')).toEqual(['read', 'write']);
    expect(tokenRequestShape('read write', undefined).key).toBe(tokenRequestShape(['write', 'read', 'write'], []).key);
  });

  it('gives different scope sets and different resources different keys', () => {
    const keys = new Set([
      tokenRequestShape('read', undefined).key,
      tokenRequestShape('read write', undefined).key,
      tokenRequestShape('read', 'https://a.example').key,
      tokenRequestShape('read', ['https://a.example', 'https://b.example']).key,
      tokenRequestShape(undefined, undefined).key,
    ]);
    expect(keys.size).toBe(5);
    expect(tokenRequestShape('read', ['https://b.example', 'https://a.example', 'https://a.example']).key).toBe(
      tokenRequestShape('read', ['https://a.example', 'https://b.example']).key,
    );
  });

  it('rejects a scope outside the RFC 6749 §3.3 grammar and a resource that is not an absolute URI without fragment (RFC 8707 §2)', () => {
    expect(() => normalizeScopes('read "quoted"')).toThrow(TypeError);
    expect(() => normalizeResources('orders')).toThrow(TypeError);
    expect(() => normalizeResources('https://a.example/#frag')).toThrow(TypeError);
  });
});

describe('reading a Bearer challenge (RFC 6750 §3)', () => {
  it.each([
    ['Bearer realm="api", error="invalid_token", error_description="expired"', 'invalid_token'],
    ['bearer error=invalid_token', 'invalid_token'],
    ['Basic realm="x", Bearer realm="api", error="insufficient_scope"', 'insufficient_scope'],
    ['Basic YWxhZGRpbg==, Bearer error="invalid_token"', 'invalid_token'],
    ['Basic realm="x", error="invalid_token"', undefined],
    ['Bearer realm="api"', undefined],
    ['Bearer realm="a, error=\\"invalid_token\\""', undefined],
    ['', undefined],
  ])('%s → %s', (header, expected) => {
    expect(bearerError(header)).toBe(expected);
  });
});

describe('backoff', () => {
  it('doubles from the initial delay and stops at the maximum', () => {
    expect([1, 2, 3, 4, 5, 6, 50].map((n) => backoffDelay(n, 1000, 30_000))).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });

  it('reads Retry-After as seconds or an HTTP-date (RFC 9110 §10.2.3)', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
