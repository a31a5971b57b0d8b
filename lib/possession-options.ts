// Options of the proof-of-possession features (issue 14): private_key_jwt client assertions (RFC 7523) and DPoP (RFC 9449), their DEFAULTS and resolvers.

/** Instance options for `private_key_jwt` (RFC 7523 §2.2). */
export interface ClientAssertionOptions {
  /** Seconds: how far ahead a client assertion's `exp` may be. Default 300. */
  maxLifetime?: number;
  /** ms: no refetch of a client's `jwks_uri` for an unknown kid sooner than this after the last fetch. Default 30000. */
  jwksCooldown?: number;
  /** ms: a fetched client key set is fetched again after this. Default 600000. */
  jwksCacheMaxAge?: number;
  /** ms before a `jwks_uri` fetch gives up. Default 5000. */
  jwksTimeout?: number;
  /** Most clients whose key set is kept in memory (LRU). Default 1000. */
  keySetCacheSize?: number;
}

/** Instance options for DPoP (RFC 9449) at the token endpoint and this instance's guards. */
export interface DpopOptions {
  /**
   * Server secrets (each 32 bytes or more) for stateless nonces (RFC 9449 §8): when set, every proof must
   * carry a current nonce. The first secret makes nonces; the others are still accepted (rotation).
   * Instances sharing the secrets accept each other's nonces. Default: nonces off.
   */
  nonceSecrets?: readonly string[];
  /** Seconds a nonce step lasts; a nonce is good for one to two steps. Default 300. */
  nonceStep?: number;
  /** Seconds: how old a proof's `iat` may be (RFC 9449 §11.1). Default 60. */
  proofMaxAge?: number;
  /** Proof jtis a guard remembers in memory when no shared store is configured (LRU bound). Default 100000. */
  replayCacheSize?: number;
}

/** A guard's DPoP policy (RFC 9449 §7). */
export interface GuardDpopOptions {
  /**
   * `'allowed'` (default): a DPoP-bound token needs the DPoP scheme and a proof, a bearer token keeps
   * working with the Bearer scheme. `'required'`: bearer tokens are refused (RFC 9449 §7.2).
   */
  dpop?: 'allowed' | 'required';
  /**
   * The URL clients use to reach this service (scheme, host and any path prefix a proxy strips), for the
   * `htu` check (RFC 9449 §4.3 item 9). Without it the guard uses the Host header and the socket's
   * scheme, never X-Forwarded-* headers: set it behind a proxy.
   */
  publicBaseUrl?: string;
}

export interface ResolvedClientAssertionOptions {
  maxLifetime: number;
  jwksCooldown: number;
  jwksCacheMaxAge: number;
  jwksTimeout: number;
  keySetCacheSize: number;
}

export interface ResolvedDpopOptions {
  nonceSecrets: readonly string[] | undefined;
  nonceStep: number;
  proofMaxAge: number;
  replayCacheSize: number;
}

export interface ResolvedGuardDpopOptions {
  dpop: 'allowed' | 'required';
  publicBaseUrl: string | undefined;
}

/** Defaults of the options above, each next to its meaning in the interfaces. */
export const POSSESSION_DEFAULTS = {
  clientAssertionMaxLifetime: 300,
  clientJwksCooldown: 30_000,
  clientJwksCacheMaxAge: 600_000,
  clientJwksTimeout: 5000,
  clientKeySetCacheSize: 1000,
  dpopNonceStep: 300,
  dpopProofMaxAge: 60,
  dpopReplayCacheSize: 100_000,
  guardDpop: 'allowed' as 'allowed' | 'required',
};

function integer(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function object<T>(value: T | undefined, name: string): Partial<NonNullable<T>> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null) throw new TypeError(`${name} must be an object`);
  return value as Partial<NonNullable<T>>;
}

/** Resolves `clientAssertion` options; throws TypeError on misuse. */
export function resolveClientAssertionOptions(value: ClientAssertionOptions | undefined): ResolvedClientAssertionOptions {
  const o = object(value, 'clientAssertion');
  const d = POSSESSION_DEFAULTS;
  return {
    maxLifetime: integer(o.maxLifetime ?? d.clientAssertionMaxLifetime, 'clientAssertion.maxLifetime', 1, 3600),
    jwksCooldown: integer(o.jwksCooldown ?? d.clientJwksCooldown, 'clientAssertion.jwksCooldown', 0, 3_600_000),
    jwksCacheMaxAge: integer(o.jwksCacheMaxAge ?? d.clientJwksCacheMaxAge, 'clientAssertion.jwksCacheMaxAge', 1000, 86_400_000),
    jwksTimeout: integer(o.jwksTimeout ?? d.clientJwksTimeout, 'clientAssertion.jwksTimeout', 1, 600_000),
    keySetCacheSize: integer(o.keySetCacheSize ?? d.clientKeySetCacheSize, 'clientAssertion.keySetCacheSize', 1, 1_000_000),
  };
}

/** Resolves `dpop` options; throws TypeError on misuse (a nonce secret shorter than 32 bytes included). */
export function resolveDpopOptions(value: DpopOptions | undefined): ResolvedDpopOptions {
  const o = object(value, 'dpop');
  const d = POSSESSION_DEFAULTS;
  const secrets = o.nonceSecrets;
  if (secrets !== undefined) {
    if (!Array.isArray(secrets) || secrets.length === 0 || secrets.some((s) => typeof s !== 'string' || Buffer.byteLength(s) < 32)) {
      throw new TypeError('dpop.nonceSecrets must be a non-empty array of strings of at least 32 bytes');
    }
  }
  return {
    nonceSecrets: secrets === undefined ? undefined : [...secrets],
    nonceStep: integer(o.nonceStep ?? d.dpopNonceStep, 'dpop.nonceStep', 10, 86_400),
    proofMaxAge: integer(o.proofMaxAge ?? d.dpopProofMaxAge, 'dpop.proofMaxAge', 1, 3600),
    replayCacheSize: integer(o.replayCacheSize ?? d.dpopReplayCacheSize, 'dpop.replayCacheSize', 1, 10_000_000),
  };
}

/** Resolves a guard's DPoP options; throws TypeError on misuse. */
export function resolveGuardDpopOptions(options: GuardDpopOptions): ResolvedGuardDpopOptions {
  const mode = options.dpop ?? POSSESSION_DEFAULTS.guardDpop;
  if (mode !== 'allowed' && mode !== 'required') throw new TypeError('dpop must be "allowed" or "required"');
  let publicBaseUrl: string | undefined;
  if (options.publicBaseUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(String(options.publicBaseUrl));
    } catch {
      throw new TypeError('publicBaseUrl must be an absolute URL');
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '') {
      throw new TypeError('publicBaseUrl must be an http(s) URL without query or fragment');
    }
    publicBaseUrl = `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
  }
  return { dpop: mode, publicBaseUrl };
}
