// DPoP at the token endpoint and at a resource (RFC 9449 §5, §7), without a framework: one checker per place, and the rule that ties a presented token to its proof.
import { InvalidDpopProofError, InvalidTokenError, OAuthError, UseDpopNonceError } from '../model/errors';
import type { AccessTokenClaims } from '../model/claims';
import type { OneTimeClaims } from '../verification/replay-cache';
import { DpopNonces } from './nonce';
import { DPOP_ALGORITHMS, verifyDpopProof, type VerifiedDpopProof } from './proof';

/** What a {@link DpopChecker} needs: the window, the clock, where jtis are claimed, and optionally nonces. */
export interface DpopCheckerConfig {
  /** Seconds a proof's `iat` may lie in the past. */
  proofMaxAge: number;
  clockTolerance: number;
  clock: () => number;
  claims: OneTimeClaims;
  /** The namespace of this place's jtis (the token endpoint and each resource are separate places). */
  namespace: string;
  /** Stateless nonce secrets (RFC 9449 §8); undefined turns nonces off. */
  nonceSecrets?: readonly string[] | undefined;
  nonceStep?: number;
}

/** The `cnf` claim of a DPoP-bound token (RFC 9449 §6.1, RFC 7800 §3.1). */
export interface DpopConfirmation {
  jkt: string;
}

/** The `cnf.jkt` of a token, or undefined when it is not DPoP-bound. */
export function boundThumbprint(claims: AccessTokenClaims): string | undefined {
  const cnf = claims.cnf;
  if (typeof cnf !== 'object' || cnf === null) return undefined;
  const jkt = (cnf as Record<string, unknown>).jkt;
  return typeof jkt === 'string' && jkt !== '' ? jkt : undefined;
}

/**
 * Validates proofs for one place (the token endpoint, or a resource server's guards). The algorithm list
 * is {@link DPOP_ALGORITHMS}; jtis are claimed in the configured {@link OneTimeClaims} (the shared store
 * at the authorization server, so a replay to another instance fails too).
 */
export class DpopChecker {
  readonly algorithms: readonly string[] = DPOP_ALGORITHMS;
  private readonly nonces: DpopNonces | undefined;

  constructor(private readonly config: DpopCheckerConfig) {
    this.nonces =
      config.nonceSecrets === undefined ? undefined : new DpopNonces({ secrets: config.nonceSecrets, stepSeconds: config.nonceStep ?? 300 });
  }

  /** RFC 9449 §4.3 for a request `htm htu` (and `ath` when a token is presented). */
  verify(proof: string, request: { htm: string; htu: string; accessToken?: string }): Promise<VerifiedDpopProof> {
    return verifyDpopProof(proof, {
      htm: request.htm,
      htu: request.htu,
      now: this.config.clock(),
      maxAgeSeconds: this.config.proofMaxAge,
      clockToleranceSeconds: this.config.clockTolerance,
      ...(request.accessToken === undefined ? {} : { accessToken: request.accessToken }),
      ...(this.nonces ? { nonces: this.nonces } : {}),
      claims: this.config.claims,
      namespace: this.config.namespace,
    });
  }

  /** RFC 9449 §8.2: a fresh nonce to send with a successful response, when nonces are on. */
  currentNonce(): string | undefined {
    return this.nonces?.current(this.config.clock());
  }
}

/**
 * RFC 9449 §4.3 item 1: at most one `DPoP` header. Returns the proof, undefined when none was sent.
 * `values` is every DPoP header field the request carried.
 */
export function singleProof(values: readonly string[]): string | undefined {
  if (values.length > 1) throw new InvalidDpopProofError('send exactly one DPoP header (RFC 9449 section 4.3)');
  const [value] = values;
  if (value === undefined) return undefined;
  if (value === '') throw new InvalidDpopProofError('the DPoP header is empty');
  return value;
}

/** How a resource request presented its token. */
export interface PresentedToken {
  scheme: 'Bearer' | 'DPoP';
  token: string;
  /** The DPoP header, when there was one. */
  proof: string | undefined;
}

/**
 * RFC 9449 §7.1 / §7.2 at a resource, after the token itself verified: a DPoP-bound token needs the
 * DPoP scheme and a valid proof by the bound key, for this request and this token; the DPoP scheme needs
 * a bound token; a bearer token passes with the Bearer scheme unless the resource requires DPoP.
 * Resolves the proof's thumbprint, or undefined for a bearer token. DPoP failures become 401.
 */
export async function checkTokenBinding(
  presented: PresentedToken,
  claims: AccessTokenClaims,
  checker: DpopChecker,
  request: { htm: string; htu: string; mode: 'allowed' | 'required' },
): Promise<string | undefined> {
  const jkt = boundThumbprint(claims);
  if (presented.scheme === 'Bearer') {
    if (jkt !== undefined) throw new InvalidTokenError('a DPoP-bound access token must be sent with the DPoP scheme (RFC 9449 section 7.2)');
    if (request.mode === 'required') throw new InvalidTokenError('this resource accepts only DPoP-bound access tokens');
    return undefined;
  }
  if (presented.proof === undefined) throw new InvalidDpopProofError('the DPoP scheme needs a DPoP proof header', { status: 401 });
  if (jkt === undefined) throw new InvalidTokenError('the access token is not DPoP-bound; send it with the Bearer scheme');
  let proof: VerifiedDpopProof;
  try {
    proof = await checker.verify(presented.proof, { htm: request.htm, htu: request.htu, accessToken: presented.token });
  } catch (err) {
    throw atResource(err);
  }
  if (proof.jkt !== jkt) throw new InvalidDpopProofError('the DPoP proof key is not the key the access token is bound to', { status: 401 });
  return jkt;
}

/** RFC 9449 §7.1: at a resource, DPoP errors are 401 challenges, not 400s. */
function atResource(err: unknown): unknown {
  if (err instanceof UseDpopNonceError) {
    return new UseDpopNonceError(err.message, err.headers['DPoP-Nonce'] as string, { status: 401 });
  }
  if (err instanceof InvalidDpopProofError) return new InvalidDpopProofError(err.message, { status: 401, cause: err.cause });
  return err;
}

/** Whether an error is about DPoP (so its challenge is the DPoP scheme's). */
export function isDpopError(err: OAuthError): boolean {
  return err.error === 'invalid_dpop_proof' || err.error === 'use_dpop_nonce';
}
