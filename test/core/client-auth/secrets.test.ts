// Client ids and secrets: 256 random bits, URL-safe, under bcrypt's 72-byte limit; async bcrypt; the dummy hash for unknown ids.
import bcrypt from 'bcrypt';
import { generateClientId, generateClientSecret, hashSecret, isPlausibleSecret, MAX_SECRET_BYTES, SecretVerifier } from '../../../lib/core/client-auth/secrets';

describe('client secrets', () => {
  it('carry 256 bits of randomness as base64url: URL-safe characters only, under 72 bytes', () => {
    const secret = generateClientSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(Buffer.byteLength(secret)).toBeLessThan(MAX_SECRET_BYTES);
    expect(new Set(Array.from({ length: 50 }, generateClientSecret)).size).toBe(50);
  });

  it('come from crypto.randomBytes (not Math.random)', () => {
    const random = jest.spyOn(Math, 'random');
    try {
      generateClientSecret();
      generateClientId();
      expect(random).not.toHaveBeenCalled();
    } finally {
      random.mockRestore();
    }
  });

  it('are hashed with async bcrypt at the given cost', async () => {
    const hashSync = jest.spyOn(bcrypt, 'hashSync');
    try {
      const hash = await hashSecret('s3cret', 4);
      expect(hash).toMatch(/^\$2b\$04\$/);
      expect(await bcrypt.compare('s3cret', hash)).toBe(true);
      expect(hashSync).not.toHaveBeenCalled();
    } finally {
      hashSync.mockRestore();
    }
  });

  it('client ids are 128 random bits in URL-safe hex', () => {
    expect(generateClientId()).toMatch(/^[0-9a-f]{32}$/);
    expect(generateClientId()).not.toBe(generateClientId());
  });

  it('treats only 1 to 72 visible ASCII characters as a plausible secret', () => {
    expect(isPlausibleSecret(generateClientSecret())).toBe(true);
    expect(isPlausibleSecret('x'.repeat(72))).toBe(true);
    expect(isPlausibleSecret('x'.repeat(73))).toBe(false);
    expect(isPlausibleSecret('')).toBe(false);
    expect(isPlausibleSecret('with space')).toBe(false);
    expect(isPlausibleSecret('nul\0byte')).toBe(false);
    expect(isPlausibleSecret('é')).toBe(false);
  });
});

describe('SecretVerifier', () => {
  it('accepts a secret matching any of the hashes (current or in its grace period)', async () => {
    const verifier = new SecretVerifier(4);
    const [a, b] = await Promise.all([hashSecret('new', 4), hashSecret('old', 4)]);
    expect(await verifier.verify('old', [a as string, b as string])).toBe(true);
    expect(await verifier.verify('other', [a as string, b as string])).toBe(false);
  });

  it('runs one bcrypt comparison against a dummy hash of the same cost when there is no hash', async () => {
    const verifier = new SecretVerifier(4);
    const compare = jest.spyOn(bcrypt, 'compare');
    try {
      expect(await verifier.verify('anything', [])).toBe(false);
      expect(compare).toHaveBeenCalledTimes(1);
      expect(compare.mock.calls[0]?.[1]).toMatch(/^\$2b\$04\$/);
    } finally {
      compare.mockRestore();
    }
  });
});
