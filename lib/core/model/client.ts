// The registered client as the core sees it, and the eligibility rules of RFC 6749 §2.1 / §4.4 applied to it.

/** The only grant this library issues tokens for (RFC 6749 §4.4). */
export const CLIENT_CREDENTIALS = 'client_credentials';

/** How a client's access tokens are represented. */
export type TokenFormat = 'jwt' | 'reference';

/** One stored secret of a client: only its bcrypt hash is ever kept. */
export interface ClientSecret {
  /** bcrypt hash of the secret. */
  hash: string;
  /** When it was issued (epoch ms). */
  createdAt: number;
  /** When it stops being accepted (epoch ms); `null` for the current secret. */
  expiresAt: number | null;
}

/** A JWK Set (RFC 7517 §5) of public keys, as registered for a client. */
export interface ClientJwks {
  keys: Record<string, unknown>[];
}

/** A registered client, as stored. Times are epoch milliseconds. */
export interface Client {
  id: string;
  name: string;
  /** Scopes given to the client directly. */
  scopes: string[];
  /** Audiences (RFC 8707 resource indicators) given to the client directly. */
  audiences: string[];
  /** Names of the groups the client belongs to. */
  groups: string[];
  /** Scopes the client may request: its own plus those of its groups. */
  effectiveScopes: string[];
  /** Audiences the client may request: its own plus those of its groups. */
  effectiveAudiences: string[];
  grantTypes: string[];
  tokenFormat: TokenFormat;
  /** Free text for people (what the client is, who owns it); '' when none. */
  description: string;
  /**
   * Lifetime of this client's access tokens in seconds, or `null` for the instance's
   * `accessTokenLifetime`. Never more than the instance's: the smaller of the two applies.
   */
  tokenLifetime: number | null;
  enabled: boolean;
  /** Secrets still accepted (current first); empty for a public client. */
  secrets: ClientSecret[];
  /**
   * RFC 7591 §2 `jwks`: the public keys whose signatures prove the client (`private_key_jwt`, RFC 7523 §2.2).
   * At most one of `jwks` and `jwksUri` is set. Optional so that stores written before them still type-check;
   * absent means none.
   */
  jwks?: ClientJwks | null;
  /** RFC 7591 §2 `jwks_uri`: where the client publishes its public keys (fetched, cached, refetched on an unknown kid). */
  jwksUri?: string | null;
  /** RFC 9449 §5.2 `dpop_bound_access_tokens`: every token of this client must be DPoP-bound. Absent means false. */
  requireDpop?: boolean;
  /** Incremented by every change to the client; caches key on it. */
  version: number;
  /** Tokens issued before this instant (epoch ms) are no longer valid; 0 when none were cut off. */
  tokensNotBefore: number;
  createdAt: number;
  updatedAt: number;
}

/** Hashes of the secrets a client still accepts at `now`, current first. */
export function acceptedSecretHashes(client: Client, now: number): string[] {
  return client.secrets.filter((s) => s.expiresAt === null || s.expiresAt > now).map((s) => s.hash);
}

/**
 * The domain rule behind `effectiveScopes` / `effectiveAudiences`: a client may request its own scopes and
 * audiences plus those of every group it belongs to. Every store builds clients through this one function.
 */
export function effectiveGrants(
  own: { scopes: readonly string[]; audiences: readonly string[] },
  groups: readonly { scopes: readonly string[]; audiences: readonly string[] }[],
): { effectiveScopes: string[]; effectiveAudiences: string[] } {
  return {
    effectiveScopes: [...new Set([...own.scopes, ...groups.flatMap((g) => g.scopes)])],
    effectiveAudiences: [...new Set([...own.audiences, ...groups.flatMap((g) => g.audiences)])],
  };
}

/** Whether the client can prove itself at all: a secret, or public keys for `private_key_jwt` (RFC 7523 §2.2). */
export function hasCredentials(client: Client): boolean {
  return client.secrets.length > 0 || hasPublicKeys(client);
}

/** Whether the client registered public keys (`jwks` or `jwks_uri`) for `private_key_jwt`. */
export function hasPublicKeys(client: Client): boolean {
  return (client.jwks?.keys.length ?? 0) > 0 || (client.jwksUri ?? null) !== null;
}
