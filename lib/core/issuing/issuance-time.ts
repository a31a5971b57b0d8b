// When a token of this issuer was issued, to the millisecond: carried in its jti, so a revocation cut voids every earlier token and no later one.
import { randomBytes } from 'node:crypto';

/**
 * A fresh `jti` (RFC 7519 §4.1.7) that also records the issuance instant: `<epoch ms, base 36>.<128
 * random bits, base64url>`. `iat` has whole seconds (RFC 7519 NumericDate, and many verifiers reject a
 * fraction), so it cannot tell a token issued at .100 s from one issued at .900 s of the same second;
 * a revocation cut at .800 s must void the first and spare the second. The jti is this issuer's own
 * opaque string, so the millisecond rides in it without adding a claim every resource server sees.
 * The random part keeps it unguessable; the time part only repeats what `iat` already says to the second.
 */
export function newTokenIdAt(issuedAtMs: number): string {
  return `${Math.floor(issuedAtMs).toString(36)}.${randomBytes(16).toString('base64url')}`;
}

/**
 * When a token was issued, in epoch ms, read from a jti made by {@link newTokenIdAt}. A jti without
 * the time (tokens issued before this format) gives the earliest instant its `iat` allows, so a cut in
 * that same second voids it: a revocation errs on the side of voiding, never of sparing.
 */
export function issuedAtMs(claims: { jti: string; iat: number }): number {
  const dot = claims.jti.indexOf('.');
  if (dot > 0) {
    const ms = parseInt(claims.jti.slice(0, dot), 36);
    // Only believe a time that agrees with the signed iat (same second).
    if (Number.isSafeInteger(ms) && Math.floor(ms / 1000) === claims.iat) return ms;
  }
  return claims.iat * 1000;
}
