// private_key_jwt client authentication (RFC 7523 §2.2 / §3, RFC 7521 §4.2, OpenID Connect Core §9): reading a client assertion without trusting it, then checking it against the client's keys.
import { decodeJwt, errors as joseErrors, jwtVerify } from 'jose';
import { InvalidClientError, InvalidRequestError } from '../model/errors';
import type { Client } from '../model/client';
import type { OneTimeClaims } from '../verification/replay-cache';
import type { ClientKeySets } from './client-keys';

/** RFC 7523 §2.2: the `client_assertion_type` of a JWT client assertion. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * Algorithms a client assertion may use: asymmetric only, pinned (never `none`, never an HMAC, which
 * would need a shared secret). Published as `token_endpoint_auth_signing_alg_values_supported`.
 */
export const ASSERTION_ALGORITHMS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'] as const;

/** The namespace assertion jtis are claimed in (RFC 7523 §3 item 7). */
export const ASSERTION_REPLAY_NAMESPACE = 'client_assertion';

const MAX_ASSERTION_LENGTH = 8192;
const MAX_JTI_LENGTH = 256;

/** What a client assertion must satisfy. Times: epoch ms and seconds as named. */
export interface AssertionExpectations {
  /** RFC 7523 §3 item 3: the issuer identifier and the token endpoint URL; `aud` must be one of them, single-valued. */
  audiences: readonly string[];
  /** How far ahead `exp` may be, seconds: a long-lived assertion is a stolen-secret by another name. */
  maxLifetimeSeconds: number;
  clockToleranceSeconds: number;
  clock: () => number;
}

/** The credential of `private_key_jwt`: the client the assertion claims to be and the assertion itself. */
export interface AssertionCredential {
  method: 'private_key_jwt';
  clientId: string;
  assertion: string;
}

/**
 * RFC 7521 §4.2 / RFC 7523 §2.2: reads `client_assertion_type` and `client_assertion` from the form and
 * the client id from the assertion, without verifying it yet. `iss` and `sub` must both be the client id
 * (§3 items 1 and 2); a body `client_id`, when sent, must be the same. Throws InvalidRequestError for a
 * wrong type or a missing assertion, InvalidClientError for an assertion that cannot name a client.
 */
export function readClientAssertion(form: Readonly<Record<string, string | undefined>>): AssertionCredential {
  const type = form.client_assertion_type;
  const assertion = form.client_assertion;
  if (type !== JWT_BEARER_ASSERTION_TYPE) {
    throw new InvalidRequestError('client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer (RFC 7523 section 2.2)');
  }
  if (assertion === undefined) throw new InvalidRequestError('client_assertion is missing (RFC 7521 section 4.2)');
  if (assertion.length > MAX_ASSERTION_LENGTH) throw new InvalidClientError('the client assertion is too long');
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(assertion) as Record<string, unknown>;
  } catch {
    throw new InvalidClientError('the client assertion is not a well-formed JWT');
  }
  const { iss, sub } = claims;
  if (typeof sub !== 'string' || sub === '' || iss !== sub) {
    throw new InvalidClientError('the client assertion must have iss and sub both equal to the client id (RFC 7523 section 3)');
  }
  if (form.client_id !== undefined && form.client_id !== sub) {
    throw new InvalidRequestError('the client_id parameter does not match the client assertion');
  }
  return { method: 'private_key_jwt', clientId: sub, assertion };
}

/**
 * Why an assertion failed, for diagnosis ({@link ClientAssertionVerifier.check}); the token endpoint answers
 * every failure alike ("client authentication failed"), so an unknown id and a bad signature look the same.
 */
export class AssertionRejected extends Error {}

/** The one place jose's errors about an assertion become a reason. */
function reason(err: unknown): string {
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'the client assertion algorithm is not accepted';
  if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys) {
    return 'no registered key of the client matches the client assertion';
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the client assertion signature is invalid';
  if (err instanceof joseErrors.JWTExpired) return 'the client assertion expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `the client assertion ${err.claim} claim is invalid`;
  if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JOSEError) return 'the client assertion could not be verified';
  return 'the client assertion could not be verified';
}

/**
 * Checks a client assertion (RFC 7523 §3) against the client's registered keys: signature by one of them
 * with a pinned asymmetric algorithm; `iss` = `sub` = client id; `aud` single-valued and the issuer or
 * the token endpoint URL; `exp` required and at most `maxLifetimeSeconds` ahead; `nbf`/`iat` not in the
 * future; `jti` required and claimed once until `exp` plus the tolerance (shared across instances when
 * the claims are the store's).
 *
 * @example
 * const verifier = new ClientAssertionVerifier(keySets, claims, { audiences: [issuer, tokenUrl], maxLifetimeSeconds: 300, clockToleranceSeconds: 5, clock: Date.now });
 * await verifier.check(credential, client); // throws AssertionRejected with the reason
 */
export class ClientAssertionVerifier {
  constructor(
    private readonly keySets: ClientKeySets,
    private readonly claims: OneTimeClaims,
    private readonly expect: AssertionExpectations,
  ) {}

  /**
   * Whether the assertion proves `client` (undefined for an unknown id: not proved, nothing claimed);
   * a rejection says why, for the audit event.
   */
  async verify(credential: AssertionCredential, client: Client | undefined): Promise<true | { failed: string }> {
    try {
      await this.check(credential, client);
      return true;
    } catch (err) {
      if (err instanceof AssertionRejected) return { failed: err.message };
      throw err;
    }
  }

  /** Like {@link verify}, but rejects with {@link AssertionRejected} saying why. */
  async check(credential: AssertionCredential, client: Client | undefined): Promise<void> {
    if (!client) throw new AssertionRejected('unknown client');
    const resolver = this.keySets.resolverFor(client);
    if (!resolver) throw new AssertionRejected('the client has no registered keys');
    const now = this.expect.clock();
    const tolerance = this.expect.clockToleranceSeconds;
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(credential.assertion, resolver, {
        algorithms: [...ASSERTION_ALGORITHMS],
        issuer: client.id,
        subject: client.id,
        audience: [...this.expect.audiences],
        requiredClaims: ['exp', 'jti'],
        currentDate: new Date(now),
        clockTolerance: tolerance,
      }));
    } catch (err) {
      throw new AssertionRejected(reason(err), { cause: err });
    }
    const aud = payload.aud;
    if (Array.isArray(aud) && aud.length !== 1) throw new AssertionRejected('the client assertion aud must be single-valued');
    const nowSeconds = now / 1000;
    const exp = payload.exp as number;
    if (exp > nowSeconds + this.expect.maxLifetimeSeconds + tolerance) {
      throw new AssertionRejected('the client assertion expires too far in the future');
    }
    if (typeof payload.iat === 'number' && payload.iat > nowSeconds + tolerance) {
      throw new AssertionRejected('the client assertion was issued in the future');
    }
    const jti = payload.jti;
    if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) throw new AssertionRejected('the client assertion jti is malformed');
    const claimed = await this.claims.claimOnce(ASSERTION_REPLAY_NAMESPACE, `${client.id} ${jti}`, (exp + tolerance) * 1000, now);
    if (!claimed) throw new AssertionRejected('the client assertion was already used (jti replay)');
  }
}
