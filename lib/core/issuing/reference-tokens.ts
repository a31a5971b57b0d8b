// Opaque reference tokens: random values the store keeps only as a SHA-256 hash next to the token's claims.
import { createHash, randomBytes } from 'node:crypto';

/** 32 random bytes, base64url: 43 characters, no dots (a JWT always has two). */
const SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** A new reference token (256 bits of randomness). */
export function newReferenceToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The only form in which a reference token is stored: a leaked database gives no usable token. */
export function hashReferenceToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** Whether a bearer value has the shape of a reference token (and so is looked up, not parsed as a JWT). */
export function isReferenceToken(token: string): boolean {
  return SHAPE.test(token);
}
