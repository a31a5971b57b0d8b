// The client credentials grant (RFC 6749 §4.4): grant type check, client eligibility, scope decision, claims and token response.
import {
  InvalidRequestError,
  InvalidScopeError,
  InvalidTargetError,
  UnauthorizedClientError,
  UnsupportedGrantTypeError,
} from '../model/errors';
import { CLIENT_CREDENTIALS, hasCredentials, type Client } from '../model/client';
import { formatScope, parseScope } from '../model/scope';
import type { AccessTokenClaims } from '../tokens/jwt';
import { newTokenIdAt } from './issuance-time';
import { resourceIndicatorProblem } from '../model/resource';

/** The token request parameters the grant reads (single strings but `resource`; empty means absent, RFC 6749 §3.1). */
export interface TokenRequestParams {
  grant_type?: string;
  scope?: string;
  /** RFC 8707 §2: the API the token is for; repeated, the APIs (one token for all of them). */
  resource?: string | readonly string[];
}

/** RFC 6749 §5.1 successful response. Never a refresh token (RFC 6749 §4.4.3). `DPoP` for a bound token (RFC 9449 §5). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope: string;
}

/** RFC 6749 §4.4.2: `grant_type` is required and must be `client_credentials`. Checked before any bcrypt work. */
export function checkGrantType(grantType: string | undefined): void {
  if (grantType === undefined) throw new InvalidRequestError('the grant_type parameter is missing');
  if (grantType !== CLIENT_CREDENTIALS) {
    throw new UnsupportedGrantTypeError('only the client_credentials grant type is supported');
  }
}

/**
 * RFC 6749 §4.4 / §2.1: only an enabled, confidential client allowed this grant gets a token.
 * Called after authentication succeeded, so the answer says nothing to someone without the secret.
 */
export function checkClientMayUseGrant(client: Client): void {
  if (!client.enabled) throw new UnauthorizedClientError('the client is disabled');
  if (!hasCredentials(client)) throw new UnauthorizedClientError('public clients may not use the client_credentials grant');
  if (!client.grantTypes.includes(CLIENT_CREDENTIALS)) {
    throw new UnauthorizedClientError('the client is not allowed the client_credentials grant');
  }
}

/**
 * RFC 6749 §3.3: every requested scope must be allowed for the client; without a `scope` parameter
 * the client gets all its allowed scopes (the documented default). Returns the granted scopes.
 */
export function decideScopes(client: Client, requested: string | undefined): string[] {
  const allowed = new Set(client.effectiveScopes);
  if (requested === undefined) {
    if (allowed.size === 0) throw new InvalidScopeError('the client has no scopes to grant');
    return [...allowed];
  }
  const scopes = parseScope(requested);
  if (!scopes) throw new InvalidScopeError('the scope parameter is malformed (RFC 6749 §3.3)');
  const refused = scopes.filter((s) => !allowed.has(s));
  if (refused.length > 0) throw new InvalidScopeError(`scope not allowed for this client: ${formatScope(refused)}`);
  return scopes;
}

/**
 * RFC 8707 §2: the token's audience. Without `resource` it is the instance's default audience; with
 * one, the resource must be one the client (or one of its groups) is allowed, else `invalid_target`.
 * §2 lets a client name several resources: it gets one token whose `aud` is the array of them (in
 * the order asked, repeats dropped), and only if every one of them is allowed; a single resource
 * stays a string `aud`. The guard of each of those audiences accepts the token, so a token for
 * several APIs is as good at each of them: ask for several only when one token must reach them all.
 * Each resource must be an absolute URI without a fragment: the same rule (lib/core/model/resource.ts)
 * the registry applies to the audiences it stores.
 */
export function decideAudience(client: Client, resource: string | readonly string[] | undefined, defaultAudience: string): string | string[] {
  if (resource === undefined) return defaultAudience;
  const resources = [...new Set(typeof resource === 'string' ? [resource] : resource)];
  if (resources.length === 0) return defaultAudience;
  for (const r of resources) {
    const problem = resourceIndicatorProblem(r);
    if (problem !== undefined) throw new InvalidTargetError(`the resource parameter ${problem}`);
    if (r !== defaultAudience && !client.effectiveAudiences.includes(r)) {
      throw new InvalidTargetError('the client may not get tokens for this resource');
    }
  }
  return resources.length === 1 ? (resources[0] as string) : resources;
}

/** The RFC 9068 §2.2 claims of a new access token. */
export function buildClaims(args: {
  issuer: string;
  client: Client;
  audience: string | string[];
  scopes: readonly string[];
  nowMs: number;
  lifetimeSeconds: number;
}): AccessTokenClaims {
  const iat = Math.floor(args.nowMs / 1000);
  return {
    iss: args.issuer,
    sub: args.client.id,
    client_id: args.client.id,
    aud: args.audience,
    scope: formatScope(args.scopes),
    iat,
    exp: iat + args.lifetimeSeconds,
    // The jti records the millisecond of issuance, for revocation cuts finer than iat's second.
    jti: newTokenIdAt(args.nowMs),
  };
}
