// JWT access tokens (RFC 9068): signing, and verification with every check RFC 8725 asks for; the one place jsonwebtoken's errors are mapped.
import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { InvalidTokenError } from '../model/errors';
import { signJws } from './jws';
import type { LoadedKey, SigningAlgorithm } from './keys';
import { isScopeToken, parseScope } from '../model/scope';

/** Longest token the verifier looks at; anything longer is rejected before parsing. */
export const MAX_TOKEN_LENGTH = 8192;

export type { AccessTokenClaims, VerifiedAccessToken } from '../model/claims';
import type { AccessTokenClaims, VerifiedAccessToken } from '../model/claims';

/** What a verifier insists on. */
export interface TokenExpectations {
  issuer: string;
  /** Accepted audiences; the token's `aud` must contain one. `undefined` skips the check (introspection does, RFC 7662 §2.2). */
  audience: readonly string[] | undefined;
  algorithms: readonly SigningAlgorithm[];
  /** Allowed clock skew, seconds, for `exp`, `nbf` and `iat`. */
  clockTolerance: number;
  /** Current time, epoch ms. */
  clock: () => number;
  /** Also read a foreign issuer's `scp` array when the token has no `scope` string. */
  acceptScp?: boolean;
}

/** What verification needs of a key: a local LoadedKey, or a key from a remote JWKS. */
export type VerificationKey = Pick<LoadedKey, 'alg' | 'publicKey'>;

/** Finds the public key for a token's header; may refresh a key set (async) on an unknown kid. */
export type KeyResolver = (
  kid: string,
  alg: SigningAlgorithm,
) => VerificationKey | undefined | Promise<VerificationKey | undefined>;

/** A fresh, unguessable token id (`jti`). */
export function newTokenId(): string {
  return randomBytes(16).toString('base64url');
}

/** Signs an RFC 9068 access token with `typ: at+jwt` and the key's `kid`, off the event loop (see {@link signJws}). */
export function signAccessToken(claims: AccessTokenClaims, key: LoadedKey): Promise<string> {
  if (!key.privateKey) return Promise.reject(new Error(`signing key ${key.kid} has no private part`));
  return signJws({ alg: key.alg, typ: 'at+jwt', kid: key.kid }, claims, key.privateKey);
}

/** RFC 9068 §4: `typ` is `at+jwt` or `application/at+jwt`, compared case-insensitively. */
function isAccessTokenType(typ: unknown): boolean {
  if (typeof typ !== 'string') return false;
  const t = typ.toLowerCase();
  return t === 'at+jwt' || t === 'application/at+jwt';
}

/** The one place jsonwebtoken's errors become {@link InvalidTokenError}s, with messages that reveal no expected values. */
function mapJwtError(err: unknown): InvalidTokenError {
  if (err instanceof jwt.TokenExpiredError) return new InvalidTokenError('the access token expired', { cause: err });
  if (err instanceof jwt.NotBeforeError) return new InvalidTokenError('the access token is not valid yet', { cause: err });
  const message = err instanceof Error ? err.message : '';
  if (message.startsWith('jwt audience invalid')) {
    return new InvalidTokenError('the access token is not meant for this audience', { cause: err });
  }
  if (message.startsWith('jwt issuer invalid')) {
    return new InvalidTokenError('the access token was issued by another issuer', { cause: err });
  }
  if (message === 'invalid signature') return new InvalidTokenError('the access token signature is invalid', { cause: err });
  return new InvalidTokenError('the access token is invalid', { cause: err });
}

/** Reads the granted scopes: RFC 9068's space-delimited `scope`, or (opt-in) a foreign issuer's `scp` array. */
function grantedScopes(payload: Record<string, unknown>, acceptScp: boolean): string[] | undefined {
  if (typeof payload.scope === 'string') return payload.scope === '' ? [] : parseScope(payload.scope);
  if (payload.scope === undefined && acceptScp && Array.isArray(payload.scp)) {
    return payload.scp.every(isScopeToken) ? [...new Set(payload.scp as string[])] : undefined;
  }
  return undefined;
}

/**
 * Verifies an access token: header (`typ`, pinned `alg`, `kid`, no `crit`), signature with the
 * resolved key, `iss`, `aud`, `exp` (required), `nbf`, `iat`, and the types of the claims it relies
 * on. Embedded `jwk` / `jku` / `x5u` / `x5c` headers are ignored: keys only come from `resolveKey`.
 * Rejects with {@link InvalidTokenError}.
 */
export async function verifyAccessToken(
  token: string,
  resolveKey: KeyResolver,
  expect: TokenExpectations,
): Promise<VerifiedAccessToken> {
  if (token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError('the access token is too long');
  let decoded: jwt.Jwt | null;
  try {
    decoded = jwt.decode(token, { complete: true });
  } catch (err) {
    throw new InvalidTokenError('the access token is malformed', { cause: err });
  }
  if (!decoded || typeof decoded.payload !== 'object' || decoded.payload === null) {
    throw new InvalidTokenError('the access token is malformed');
  }
  const header = decoded.header as jwt.JwtHeader & { crit?: unknown };
  if (!isAccessTokenType(header.typ)) throw new InvalidTokenError('the token is not an access token (typ)');
  const alg = header.alg as SigningAlgorithm;
  if (!expect.algorithms.includes(alg)) throw new InvalidTokenError('the access token algorithm is not accepted');
  if (header.crit !== undefined) throw new InvalidTokenError('the access token has critical header parameters');
  if (typeof header.kid !== 'string' || header.kid === '') throw new InvalidTokenError('the access token has no key id');

  const key = await resolveKey(header.kid, alg);
  if (!key || key.alg !== alg) throw new InvalidTokenError('the access token was signed with an unknown key');

  const nowSeconds = Math.floor(expect.clock() / 1000);
  let payload: Record<string, unknown>;
  try {
    payload = jwt.verify(token, key.publicKey, {
      algorithms: [key.alg],
      issuer: expect.issuer,
      ...(expect.audience === undefined
        ? {}
        : { audience: expect.audience.length === 1 ? (expect.audience[0] as string) : ([...expect.audience] as [string]) }),
      clockTolerance: expect.clockTolerance,
      clockTimestamp: nowSeconds,
    }) as Record<string, unknown>;
  } catch (err) {
    throw mapJwtError(err);
  }

  if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) {
    throw new InvalidTokenError('the access token has no valid expiry');
  }
  if (typeof payload.iat !== 'number' || payload.iat > nowSeconds + expect.clockTolerance) {
    throw new InvalidTokenError('the access token has an invalid issue time');
  }
  if (typeof payload.sub !== 'string' || typeof payload.jti !== 'string') {
    throw new InvalidTokenError('the access token lacks required claims');
  }
  const clientId = payload.client_id === undefined ? payload.sub : payload.client_id;
  if (typeof clientId !== 'string') throw new InvalidTokenError('the access token lacks required claims');
  const scopes = grantedScopes(payload, expect.acceptScp ?? false);
  if (!scopes) throw new InvalidTokenError('the access token scope claim is malformed');

  return { clientId, scopes, claims: payload as AccessTokenClaims };
}
