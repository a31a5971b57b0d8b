// Private signing keys encrypted at rest: AES-256-GCM under keys derived (HKDF-SHA256) from the operator's key secrets, the first of which encrypts.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/** Marks a sealed private key in storage; the version names the scheme below. */
const PREFIX = 'ecc-kek1';
/** Shortest secret accepted: HKDF does not stretch a weak secret, so it must carry its own entropy. */
export const MIN_KEY_SECRET_LENGTH = 32;
const HKDF_SALT = Buffer.from('express-client-credentials key encryption', 'utf8');
const HKDF_INFO = Buffer.from('signing key encryption v1', 'utf8');
const IV_BYTES = 12;

/**
 * A start-up failure of key encryption: a sealed key and no secret, or none of the secrets fits. Its
 * message names the key id and what to do, never a secret.
 */
export class KeyEncryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyEncryptionError';
  }
}

interface DerivedKey {
  /** Public fingerprint of the secret, stored with each envelope so a wrong secret is named, not guessed at. */
  id: string;
  key: Buffer;
}

function derive(secret: string): DerivedKey {
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), HKDF_SALT, HKDF_INFO, 32));
  // A hash of the derived key, not of the secret: it reveals nothing that helps guess the secret.
  const id = createHash('sha256').update('key id').update(key).digest('base64url').slice(0, 11);
  return { id, key };
}

/** Whether a stored private key is sealed by {@link KeyEncryption} (else it is clear PKCS#8 PEM). */
export function isSealedPrivateKey(stored: string): boolean {
  return stored.startsWith(`${PREFIX}.`);
}

/**
 * Seals and opens private signing keys with the operator's key secrets (option `keySecret`, env
 * `OAUTH_KEY_SECRET`), so a copy of the database (a dump, a backup) is not enough to mint tokens.
 * The first secret seals; every secret opens, so the secret itself can be rotated: put the new one
 * first, keep the old one after it until every key has been resealed (the key ring does that when it
 * loads), then drop it. An envelope is `ecc-kek1.<secret id>.<iv>.<ciphertext>.<tag>` (base64url),
 * AES-256-GCM with the key id as additional data, so a sealed key cannot be moved to another row.
 *
 * @example
 * const sealing = new KeyEncryption([process.env.OAUTH_KEY_SECRET!]);
 * const stored = sealing.seal(kid, pem);   // what the store keeps
 * const pemAgain = sealing.open(kid, stored);
 */
export class KeyEncryption {
  private readonly keys: DerivedKey[];

  /** Throws `TypeError` for no secret or one shorter than {@link MIN_KEY_SECRET_LENGTH} characters. */
  constructor(secrets: readonly string[]) {
    if (!Array.isArray(secrets) || secrets.length === 0) throw new TypeError('keySecret needs at least one secret');
    for (const secret of secrets) {
      if (typeof secret !== 'string' || secret.length < MIN_KEY_SECRET_LENGTH) {
        throw new TypeError(`each keySecret must be a string of at least ${MIN_KEY_SECRET_LENGTH} characters (e.g. openssl rand -base64 32)`);
      }
    }
    this.keys = secrets.map(derive);
  }

  /** Seals a PKCS#8 PEM private key under the first secret. */
  seal(kid: string, pem: string): string {
    const { id, key } = this.keys[0] as DerivedKey;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(kid, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(pem, 'utf8'), cipher.final()]);
    return [PREFIX, id, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** Whether `stored` should be sealed again: clear text, or sealed under a secret other than the first. */
  needsReseal(stored: string): boolean {
    return !isSealedPrivateKey(stored) || stored.split('.')[1] !== this.keys[0]?.id;
  }

  /** The PEM inside `stored` (clear PEM passes through). Throws {@link KeyEncryptionError} when no secret opens it. */
  open(kid: string, stored: string): string {
    if (!isSealedPrivateKey(stored)) return stored;
    const [, id, iv, ciphertext, tag] = stored.split('.');
    const derived = this.keys.find((k) => k.id === id);
    if (!derived || iv === undefined || ciphertext === undefined || tag === undefined) {
      throw new KeyEncryptionError(
        `signing key ${kid} is encrypted with a key secret that is not configured: give that secret in keySecret / OAUTH_KEY_SECRET (a new secret goes first, the old one after it)`,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', derived.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(kid, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new KeyEncryptionError(`signing key ${kid} cannot be decrypted: the stored key was altered or belongs to another key id`);
    }
  }
}

/**
 * The secrets in an `OAUTH_KEY_SECRET` value: comma-separated (base64 has no comma), blanks trimmed,
 * empty entries dropped; the first one encrypts.
 */
export function parseKeySecrets(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Opens a stored private key without any secret: clear PEM passes, a sealed key is a {@link KeyEncryptionError}. */
export function openWithoutSecret(kid: string, stored: string): string {
  if (isSealedPrivateKey(stored)) {
    throw new KeyEncryptionError(
      `signing key ${kid} is encrypted, but no key secret is configured: set keySecret (or OAUTH_KEY_SECRET, for the CLI too)`,
    );
  }
  return stored;
}
