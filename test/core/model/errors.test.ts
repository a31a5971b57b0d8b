// OAuth error bodies: error_description stays within the characters RFC 6749 §5.2 allows.
import { InvalidRequestError } from '../../../lib';

describe('OAuth error body', () => {
  it('writes a section sign as "section", a double quote as a single one, and drops other characters outside %x20-21 / %x23-5B / %x5D-7E (RFC 6749 §5.2)', () => {
    expect(new InvalidRequestError('see RFC 6749 §2.3: "a\\b" é\u0000\ttab').toJSON()).toEqual({
      error: 'invalid_request',
      error_description: "see RFC 6749 section 2.3: 'ab' tab",
    });
  });
});
