// Client authentication methods (lib/core/client-auth/methods.ts): RFC 6749 §2.3.1 decoding of Basic credentials, read once.
import { formDecode, parseBasicCredentials } from '../../../lib/core/client-auth/methods';

function b64(text: string | Buffer): string {
  return Buffer.from(text).toString('base64');
}

describe('formDecode (RFC 6749 §2.3.1, application/x-www-form-urlencoded)', () => {
  it('decodes + as a space and %XX as UTF-8', () => {
    expect(formDecode('a+b%3Ac%2F%C3%A9%2B')).toBe('a b:c/é+');
  });

  it('returns a value with nothing to decode as it is', () => {
    expect(formDecode('Xk3bq9Zt0aQwErTyUiOp_-')).toBe('Xk3bq9Zt0aQwErTyUiOp_-');
    expect(formDecode('a+b')).toBe('a b');
    expect(formDecode('a%20b')).toBe('a b');
  });

  it('returns undefined for a malformed %-encoding', () => {
    expect(formDecode('%zz')).toBeUndefined();
    expect(formDecode('%C3')).toBeUndefined();
    expect(formDecode('abc%')).toBeUndefined();
  });
});

describe('parseBasicCredentials (RFC 7617, RFC 6749 §2.3.1)', () => {
  it('reads and form-decodes id and secret', () => {
    expect(parseBasicCredentials(`Basic ${b64('my+id%3A1:s%25cr%2Bt')}`)).toEqual({ ok: true, clientId: 'my id:1', clientSecret: 's%cr+t' });
  });

  it('accepts canonical base64 with one, two or no padding characters (RFC 4648 §4)', () => {
    for (const secret of ['s', 'se', 'sec']) {
      expect(parseBasicCredentials(`Basic ${b64(`id:${secret}`)}`)).toEqual({ ok: true, clientId: 'id', clientSecret: secret });
    }
  });

  it('accepts the scheme name case-insensitively (RFC 7235 §2.1)', () => {
    expect(parseBasicCredentials(`bAsIc ${b64('id:secret')}`)).toEqual({ ok: true, clientId: 'id', clientSecret: 'secret' });
  });

  it.each([
    ['not Basic', `Bearer ${b64('id:secret')}`, 'malformed Basic credentials'],
    ['no credentials', 'Basic ', 'malformed Basic credentials'],
    ['trailing data', `Basic ${b64('id:secret')} x`, 'malformed Basic credentials'],
    ['base64 without its padding', 'Basic aWQ6c2VjcmV0cw', 'Basic credentials are not valid base64'],
    ['base64 characters outside the alphabet', 'Basic aWQ6c2VjcmV0!!==', 'Basic credentials are not valid base64'],
    ['base64 with three padding characters', 'Basic aWQ6c2VjcmV0c===', 'Basic credentials are not valid base64'],
    ['base64 padding before the end', 'Basic aWQ6c2Vj=mV0cw==', 'Basic credentials are not valid base64'],
    ['base64 padding in place of a whole group', 'Basic aWQ6c2VjcmV0====', 'Basic credentials are not valid base64'],
    ['base64 with a padding character too many', 'Basic aWQ6c2VjcmV0cw===', 'Basic credentials are not valid base64'],
    ['no colon', `Basic ${b64('idsecret')}`, 'Basic credentials must be client_id:client_secret'],
    ['two colons', `Basic ${b64('id:sec:ret')}`, 'Basic credentials must be client_id:client_secret'],
    ['an empty id', `Basic ${b64(':secret')}`, 'Basic credentials have an empty part'],
    ['an empty secret', `Basic ${b64('id:')}`, 'Basic credentials have an empty part'],
    ['non-UTF-8 bytes', `Basic ${b64(Buffer.from([0xc3, 0x28, 0x3a, 0x61]))}`, 'Basic credentials are not valid UTF-8'],
    ['a bad %-encoding', `Basic ${b64('id:sec%G0')}`, 'Basic credentials are not correctly form-encoded (RFC 6749 §2.3.1)'],
  ])('refuses %s', (_case, header, reason) => {
    expect(parseBasicCredentials(header)).toEqual({ ok: false, reason });
  });
});
