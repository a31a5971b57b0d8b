// RFC 7662 introspection responses: the members of an active token's answer, and the bare inactive answer.
import type { AccessTokenClaims } from '../tokens/jwt';
import { boundThumbprint } from '../dpop/binding';

/** RFC 7662 §2.2. An inactive answer carries nothing but `active: false`. */
export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      scope: string;
      client_id: string;
      /** `DPoP` for a DPoP-bound token (RFC 9449 §6.2). */
      token_type: 'Bearer' | 'DPoP';
      exp: number;
      iat: number;
      iss: string;
      aud: string | string[];
      sub: string;
      jti: string;
      /** RFC 9449 §6.2 / RFC 7800: the key a bound token is confirmed by. */
      cnf?: { jkt: string };
    };

/** RFC 7662 §2.2: says nothing of why (expired, revoked, unknown or garbage all look the same). */
export function inactive(): IntrospectionResponse {
  return { active: false };
}

/** The answer for a good token of this issuer. */
export function introspectionResponse(claims: AccessTokenClaims): IntrospectionResponse {
  const jkt = boundThumbprint(claims);
  return {
    active: true,
    scope: claims.scope,
    client_id: claims.client_id,
    token_type: jkt === undefined ? 'Bearer' : 'DPoP',
    exp: claims.exp,
    iat: claims.iat,
    iss: claims.iss,
    aud: claims.aud,
    sub: claims.sub,
    jti: claims.jti,
    ...(jkt === undefined ? {} : { cnf: { jkt } }),
  };
}
