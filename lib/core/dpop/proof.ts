// DPoP proof validation (RFC 9449 §4.3) with no framework: header, embedded public key, signature, htm, htu, iat window, ath, nonce and jti replay.
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, errors as joseErrors, jwtVerify, type JWK } from 'jose';
import { InvalidDpopProofError, UseDpopNonceError } from '../model/errors';
import type { OneTimeClaims } from '../verification/replay-cache';
import type { DpopNonces } from './nonce';

/**
 * RFC 9449 §4.3 item 5: asymmetric algorithms only, pinned (never `none`, never an HMAC). Published as
 * `dpop_signing_alg_values_supported` and in the `DPoP algs="..."` challenge.
 */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'] as const;
export type DpopAlgorithm = (typeof DPOP_ALGORITHMS)[number];

/** A proof is a few hundred bytes; anything much longer is refused before parsing. */
const MAX_PROOF_LENGTH = 4096;
const MAX_JTI_LENGTH = 256;
/** Members that only a private JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** What a proof must match. Times: `now` epoch ms, windows in seconds. */
export interface DpopProofExpectations {
  /** RFC 9449 §4.3 item 8: the request's method. */
  htm: string;
  /** Item 9: the request's URI as the server knows it (configuration, never forwarded headers); query and fragment are ignored. */
  htu: string;
  now: number;
  /** Item 11: how old `iat` may be, seconds. */
  maxAgeSeconds: number;
  /** How far ahead of the clock `iat` may be, seconds. */
  clockToleranceSeconds: number;
  /** §7.1 item 10: the access token presented with the proof; its hash must be `ath`. */
  accessToken?: string;
  /** §8 / §9: when set, the proof must carry a current server nonce. */
  nonces?: DpopNonces;
  /** §11.1: the proof's jti is claimed once; a replay is refused. */
  claims: OneTimeClaims;
  /** The namespace jtis are claimed in (the token endpoint and each resource keep separate sets). */
  namespace: string;
  algorithms?: readonly string[];
}

/** A proof that passed every check. */
export interface VerifiedDpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's public key: the `cnf.jkt` a token is bound to (§6.1). */
  jkt: string;
  jti: string;
  /** Seconds. */
  iat: number;
  alg: string;
}

/** RFC 9449 §6.1: the base64url SHA-256 of the ASCII access token, as `ath` carries it. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/** RFC 7638 SHA-256 thumbprint of a public JWK (jose computes it over the required members only). */
export function jwkThumbprint(jwk: JWK): Promise<string> {
  return calculateJwkThumbprint(jwk, 'sha256');
}

/**
 * RFC 9449 §4.3 item 9, with RFC 3986 §6.2.2 / §6.2.3 normalization (scheme and host case, default port,
 * dot segments, as WHATWG URL applies them): the URI without query and fragment, or undefined when it is
 * not an absolute http(s) URI.
 */
export function normalizeHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function fail(description: string, cause?: unknown): InvalidDpopProofError {
  return new InvalidDpopProofError(description, cause === undefined ? undefined : { cause });
}

/** The one place jose's errors about a proof become {@link InvalidDpopProofError}s. */
function mapJoseError(err: unknown): InvalidDpopProofError {
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return fail('the DPoP proof algorithm is not accepted', err);
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return fail('the DPoP proof signature is invalid', err);
  if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'typ') return fail('the DPoP proof typ must be dpop+jwt', err);
  if (err instanceof joseErrors.JWTExpired) return fail('the DPoP proof expired', err);
  if (err instanceof joseErrors.JOSEError) return fail('the DPoP proof is malformed', err);
  return fail('the DPoP proof is malformed', err);
}

/**
 * Validates a DPoP proof JWT (RFC 9449 §4.3): one compact JWS with `typ: dpop+jwt`, an asymmetric
 * `alg` from the pinned list, an embedded public `jwk` without private members that verifies the
 * signature; `htm` and `htu` that match the request; `iat` within the window; `jti` unique (claimed
 * until the window closes); `ath` when a token is presented (§7.1 item 10); the server nonce when
 * nonces are on (§8). Rejects with {@link InvalidDpopProofError}, or {@link UseDpopNonceError} carrying
 * a fresh nonce.
 *
 * @example
 * const { jkt } = await verifyDpopProof(req.headers.dpop, { htm: 'POST', htu: 'https://as.example/oauth/token',
 *   now: Date.now(), maxAgeSeconds: 60, clockToleranceSeconds: 5, claims: new MemoryClaims(10_000), namespace: 'token' });
 */
export async function verifyDpopProof(proof: string, expect: DpopProofExpectations): Promise<VerifiedDpopProof> {
  if (proof.length > MAX_PROOF_LENGTH) throw fail('the DPoP proof is too long');
  const algorithms = [...(expect.algorithms ?? DPOP_ALGORITHMS)];
  let payload: Record<string, unknown>;
  let header: Record<string, unknown>;
  try {
    const result = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms,
      currentDate: new Date(expect.now),
      clockTolerance: expect.clockToleranceSeconds,
    });
    payload = result.payload as Record<string, unknown>;
    header = result.protectedHeader as Record<string, unknown>;
  } catch (err) {
    throw mapJoseError(err);
  }
  // jose compares typ case-insensitively without the media-type prefix; RFC 9449 §4.2 names exactly dpop+jwt.
  if (header.typ !== 'dpop+jwt') throw fail('the DPoP proof typ must be dpop+jwt');
  const jwk = header.jwk as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((m) => m in jwk)) throw fail('the DPoP proof jwk must not contain a private key');

  const { jti, htm, htu, iat } = payload;
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) throw fail('the DPoP proof jti is missing or malformed');
  if (htm !== expect.htm) throw fail('the DPoP proof htm does not match the request method');
  if (typeof htu !== 'string' || normalizeHtu(htu) === undefined || normalizeHtu(htu) !== normalizeHtu(expect.htu)) {
    throw fail('the DPoP proof htu does not match the request URI');
  }
  const nowSeconds = expect.now / 1000;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw fail('the DPoP proof iat is missing');
  if (iat > nowSeconds + expect.clockToleranceSeconds || iat < nowSeconds - expect.maxAgeSeconds - expect.clockToleranceSeconds) {
    throw fail('the DPoP proof iat is outside the accepted window');
  }
  if (expect.accessToken !== undefined) {
    if (payload.ath !== accessTokenHash(expect.accessToken)) throw fail('the DPoP proof ath does not match the access token');
  }
  if (expect.nonces) {
    const nonce = payload.nonce;
    if (typeof nonce !== 'string' || !expect.nonces.isValid(nonce, expect.now)) {
      throw new UseDpopNonceError(
        nonce === undefined ? 'a DPoP nonce is required' : 'the DPoP nonce is stale or invalid',
        expect.nonces.current(expect.now),
      );
    }
  }
  const jkt = await jwkThumbprint(jwk as unknown as JWK);
  // Claimed last, so a proof refused for another reason does not burn its jti; held until the window closes.
  const until = (iat + expect.maxAgeSeconds + 2 * expect.clockToleranceSeconds) * 1000;
  if (!(await expect.claims.claimOnce(expect.namespace, `${jkt}:${jti}`, until, expect.now))) {
    throw fail('the DPoP proof was already used (jti replay)');
  }
  return { jkt, jti, iat, alg: String(header.alg) };
}
