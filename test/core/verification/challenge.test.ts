// WWW-Authenticate values: RFC 6750 §3 Bearer challenges and RFC 7230 §3.2.6 quoting.
import { basicChallenge, bearerChallenge, quoteString } from '../../../lib/core/verification/challenge';

describe('quoted strings (RFC 7230 §3.2.6)', () => {
  it('escapes double quotes and backslashes with a backslash', () => {
    expect(quoteString('say "hi" \\ bye')).toBe('"say \\"hi\\" \\\\ bye"');
  });

  it('drops characters a header cannot carry (control characters, non-ASCII)', () => {
    expect(quoteString('a\r\nb\u0000c\u00e9d')).toBe('"abcd"');
  });
});

describe('Bearer challenge (RFC 6750 §3)', () => {
  it('carries only the realm when the request had no token (RFC 6750 §3.1)', () => {
    expect(bearerChallenge({ realm: 'oauth' })).toBe('Bearer realm="oauth"');
    expect(bearerChallenge({ realm: 'oauth', error: null, description: 'ignored' })).toBe('Bearer realm="oauth"');
  });

  it('adds error and error_description after the realm', () => {
    expect(bearerChallenge({ realm: 'oauth', error: 'invalid_token', description: 'the access token expired' })).toBe(
      'Bearer realm="oauth", error="invalid_token", error_description="the access token expired"',
    );
  });

  it('lists the required scopes space-delimited in one scope attribute (RFC 6750 §3)', () => {
    expect(
      bearerChallenge({ realm: 'oauth', error: 'insufficient_scope', description: 'needs more', scope: ['read', 'write'] }),
    ).toBe('Bearer realm="oauth", error="insufficient_scope", error_description="needs more", scope="read write"');
  });

  it('quotes and escapes a realm holding quotes and backslashes', () => {
    expect(bearerChallenge({ realm: 'my "api" \\ v2' })).toBe('Bearer realm="my \\"api\\" \\\\ v2"');
  });

  it('removes characters error_description may not hold (%x20-21 / %x23-5B / %x5D-7E) instead of escaping them', () => {
    expect(bearerChallenge({ realm: 'r', error: 'invalid_request', description: 'bad "x" \\ y\u00e9\n' })).toBe(
      'Bearer realm="r", error="invalid_request", error_description="bad x  y"',
    );
  });
});

describe('Basic challenge (RFC 7617 §2)', () => {
  it('names the realm and says credentials are UTF-8', () => {
    expect(basicChallenge('a "b"')).toBe('Basic realm="a \\"b\\"", charset="UTF-8"');
  });
});
