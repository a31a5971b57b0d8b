// Key encryption at rest: AES-256-GCM under HKDF-derived keys, the first secret seals, every secret opens, a sealed key bound to its kid.
import { generateKeyPairSync } from 'node:crypto';
import {
  KeyEncryption,
  KeyEncryptionError,
  isSealedPrivateKey,
  openWithoutSecret,
  parseKeySecrets,
} from '../../../lib/core/tokens/key-encryption';

const SECRET_A = 'a'.repeat(20) + 'secret-number-one';
const SECRET_B = 'b'.repeat(20) + 'secret-number-two';
const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

describe('key encryption (private signing keys at rest)', () => {
  it('seals a private key so the stored form holds no PEM, and opens it again', () => {
    const sealing = new KeyEncryption([SECRET_A]);
    const stored = sealing.seal('kid-1', pem);
    expect(isSealedPrivateKey(stored)).toBe(true);
    expect(stored).not.toContain('PRIVATE KEY');
    expect(stored).not.toContain(SECRET_A);
    expect(sealing.open('kid-1', stored)).toBe(pem);
    // A fresh IV each time: two seals of one key differ.
    expect(sealing.seal('kid-1', pem)).not.toBe(stored);
  });

  it('binds a sealed key to its kid (GCM additional data): moved to another row, it does not open', () => {
    const sealing = new KeyEncryption([SECRET_A]);
    const stored = sealing.seal('kid-1', pem);
    expect(() => sealing.open('kid-2', stored)).toThrow(KeyEncryptionError);
    // One bit of the GCM tag flipped in its bytes: editing the base64url text could touch only the
    // spare bits of its last character (one seal in 256 ends so), which decode to the same tag.
    const parts = stored.split('.');
    const tag = Buffer.from(parts[4] as string, 'base64url');
    tag[0] = (tag[0] as number) ^ 1;
    const tampered = [...parts.slice(0, 4), tag.toString('base64url')].join('.');
    expect(tampered).not.toBe(stored);
    expect(() => sealing.open('kid-1', tampered)).toThrow(KeyEncryptionError);
  });

  it('accepts several secrets: the first seals, every one opens, and a key under an older one needs resealing', () => {
    const old = new KeyEncryption([SECRET_A]).seal('kid-1', pem);
    const rotated = new KeyEncryption([SECRET_B, SECRET_A]);
    expect(rotated.open('kid-1', old)).toBe(pem);
    expect(rotated.needsReseal(old)).toBe(true);
    expect(rotated.needsReseal(pem)).toBe(true);
    const resealed = rotated.seal('kid-1', pem);
    expect(rotated.needsReseal(resealed)).toBe(false);
    expect(new KeyEncryption([SECRET_B]).open('kid-1', resealed)).toBe(pem);
  });

  it('names a wrong or missing secret clearly, without echoing any secret', () => {
    const stored = new KeyEncryption([SECRET_A]).seal('kid-1', pem);
    const wrong = () => new KeyEncryption([SECRET_B]).open('kid-1', stored);
    expect(wrong).toThrow(new KeyEncryptionError(
      'signing key kid-1 is encrypted with a key secret that is not configured: give that secret in keySecret / OAUTH_KEY_SECRET (a new secret goes first, the old one after it)',
    ));
    expect(() => openWithoutSecret('kid-1', stored)).toThrow(/kid-1 is encrypted, but no key secret is configured/);
    expect(openWithoutSecret('kid-1', pem)).toBe(pem);
  });

  it('refuses a secret shorter than 32 characters, or none, with a TypeError that does not show it', () => {
    expect(() => new KeyEncryption(['short-secret'])).toThrow(TypeError);
    expect(() => new KeyEncryption(['short-secret'])).not.toThrow(/short-secret/);
    expect(() => new KeyEncryption([])).toThrow(new TypeError('keySecret needs at least one secret'));
  });

  it('reads OAUTH_KEY_SECRET as comma-separated secrets, blanks dropped', () => {
    expect(parseKeySecrets(` ${SECRET_B} , ${SECRET_A},`)).toEqual([SECRET_B, SECRET_A]);
  });
});
