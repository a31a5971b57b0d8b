// The proof-of-possession option tables (issue 14): `clientAssertion` (private_key_jwt, RFC 7523) and `dpop` (RFC 9449) of an instance, and a guard's DPoP policy; nested tables resolved like `introspection`.
import type { ClientAssertionConfig, DpopConfig } from '../core/issuing/config';
import type { ReplayStore } from '../store/types';
import { boolean, integer, nested, oneOf, resolveTable, withMethods, type Check, type OptionsOf, type OptionTable } from './validate';

/** A nonce secret list: each at least 32 bytes (an HMAC key), never echoed in a message. */
const nonceSecrets: Check<readonly string[], readonly string[]> = (value, name) => {
  if (!Array.isArray(value) || value.length === 0 || value.some((s) => typeof s !== 'string' || Buffer.byteLength(s) < 32)) {
    throw new TypeError(`${name} must be a non-empty array of strings of at least 32 bytes`);
  }
  return [...(value as string[])];
};

/** An absolute http(s) URL without query or fragment, kept without a trailing slash (the request path is appended). */
const publicBaseUrl: Check<string> = (value, name) => {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new TypeError(`${name} must be an absolute URL`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '' || typeof value !== 'string') {
    throw new TypeError(`${name} must be an http(s) URL without query or fragment`);
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
};

/** `clientAssertion: { ... }` of an instance: how `private_key_jwt` assertions and clients' `jwks_uri`s are handled. */
export const CLIENT_ASSERTION_OPTIONS = {
  maxLifetime: {
    check: integer(1, 3600),
    default: 300,
    defaultsKey: 'clientAssertionMaxLifetime' as const,
    type: '`number` (seconds)',
    description: "how far ahead a `private_key_jwt` assertion's `exp` may be (RFC 7523 §3)",
  },
  jwksCooldown: {
    check: integer(0, 3_600_000),
    default: 30_000,
    defaultsKey: 'clientJwksCooldown' as const,
    type: '`number` (ms)',
    description: "no refetch of a client's `jwks_uri` for an unknown `kid` sooner than this after the last fetch",
  },
  jwksCacheMaxAge: {
    check: integer(1000, 86_400_000),
    default: 600_000,
    defaultsKey: 'clientJwksCacheMaxAge' as const,
    type: '`number` (ms)',
    description: 'a fetched client key set is fetched again after this',
  },
  jwksTimeout: {
    check: integer(1, 600_000),
    default: 5000,
    defaultsKey: 'clientJwksTimeout' as const,
    type: '`number` (ms)',
    description: 'a `jwks_uri` fetch gives up after this',
  },
  keySetCacheSize: {
    check: integer(1, 1_000_000),
    default: 1000,
    defaultsKey: 'clientKeySetCacheSize' as const,
    type: '`number`',
    description: 'clients whose key sets are kept in memory (least recently used go first)',
  },
} satisfies OptionTable;

/** `dpop: { ... }` of an instance: DPoP nonces and proof checks (RFC 9449). */
export const DPOP_OPTIONS = {
  nonceSecrets: {
    check: nonceSecrets,
    optional: true,
    defaultText: 'unset (no nonces)',
    type: '`string[]`',
    description:
      'secrets (32 bytes or more) for stateless nonces (RFC 9449 §8): every proof at the token endpoint must then carry a current nonce (`use_dpop_nonce` and a `DPoP-Nonce` header otherwise); the first secret makes nonces, all are accepted, so instances sharing them agree without storage',
  },
  nonceStep: {
    check: integer(10, 86_400),
    default: 300,
    defaultsKey: 'dpopNonceStep' as const,
    type: '`number` (seconds)',
    description: 'a nonce is good for one to two steps',
  },
  proofMaxAge: {
    check: integer(1, 3600),
    default: 60,
    defaultsKey: 'dpopProofMaxAge' as const,
    type: '`number` (seconds)',
    description: "how old a proof's `iat` may be (RFC 9449 §11.1)",
  },
  replayCacheSize: {
    check: integer(1, 10_000_000),
    default: 100_000,
    defaultsKey: 'dpopReplayCacheSize' as const,
    type: '`number`',
    description: 'proof `jti`s a resource server without a `replayStore` remembers (LRU)',
  },
} satisfies OptionTable;

/** Input of the `clientAssertion` option. */
export type ClientAssertionOptions = OptionsOf<typeof CLIENT_ASSERTION_OPTIONS>;
/** Input of the `dpop` option of an instance. */
export type DpopOptions = OptionsOf<typeof DPOP_OPTIONS>;

/** Resolves `clientAssertion` (absent: every default); the core reads it as {@link ClientAssertionConfig}. */
export function resolveClientAssertionOptions(value: ClientAssertionOptions = {}): ClientAssertionConfig {
  return resolveTable(CLIENT_ASSERTION_OPTIONS, value, 'clientAssertion.');
}

/** Resolves `dpop` (absent: every default, nonces off); the core reads it as {@link DpopConfig}. */
export function resolveDpopOptions(value: DpopOptions = {}): DpopConfig {
  return resolveTable(DPOP_OPTIONS, value, 'dpop.');
}

/** The instance's two nested options, as entries of INSTANCE_OPTIONS. */
export const POSSESSION_INSTANCE_OPTIONS = {
  clientAssertion: {
    check: nested<ClientAssertionOptions, ClientAssertionConfig>(resolveClientAssertionOptions),
    defaultText: 'see [`clientAssertion`](#clientassertion-options)',
    type: '`{ maxLifetime?, jwksCooldown?, jwksCacheMaxAge?, jwksTimeout?, keySetCacheSize? }`',
    description: '`private_key_jwt` client assertions (RFC 7523): assertion lifetime, fetching of clients\' `jwks_uri`',
  },
  dpop: {
    check: nested<DpopOptions, DpopConfig>(resolveDpopOptions),
    defaultText: 'see [`dpop`](#dpop-options)',
    type: '`{ nonceSecrets?, nonceStep?, proofMaxAge?, replayCacheSize? }`',
    description: 'DPoP (RFC 9449): server nonces, proof age, replay cache',
  },
} satisfies OptionTable;

/** Computed defaults of the nested options (for resolveTable). */
export const POSSESSION_INSTANCE_DEFAULTS = {
  clientAssertion: () => resolveClientAssertionOptions(),
  dpop: () => resolveDpopOptions(),
};

/** A guard's DPoP policy (RFC 9449 §7): entries of GUARD_OPTIONS and RESOURCE_SERVER_OPTIONS. */
export const GUARD_DPOP_OPTIONS = {
  dpop: {
    check: oneOf(['allowed', 'required'] as const),
    default: 'allowed' as 'allowed' | 'required',
    defaultsKey: 'guardDpop' as const,
    type: "`'allowed' \\| 'required'`",
    description:
      "`'allowed'`: a DPoP-bound token needs the `DPoP` scheme and a proof (RFC 9449 §7.1), a bearer token still passes with `Bearer`; `'required'`: bearer tokens are refused (§7.2)",
  },
  dpopNonce: {
    check: boolean(),
    default: false,
    defaultsKey: 'guardDpopNonce' as const,
    type: '`boolean`',
    description:
      "RFC 9449 §9: a DPoP proof at this route must carry a current server nonce (else `401`, `error=\"use_dpop_nonce\"` and a `DPoP-Nonce` header), and each DPoP request it grants gets the current nonce back in `DPoP-Nonce`; the nonces are the instance's `dpop.nonceSecrets` (a resource server's `dpopProof.nonceSecrets`), which must be set",
  },
  publicBaseUrl: {
    check: publicBaseUrl,
    optional: true,
    defaultText: "unset: the Host header and the socket's scheme",
    type: '`string`',
    description:
      'the URL clients reach this service at (with any path prefix a proxy strips), for the DPoP proof\'s `htu`; set it behind a proxy: `X-Forwarded-*` headers are never used',
  },
} satisfies OptionTable;

/** A resource server's own DPoP settings: proof age, its in-memory replay cache, or a shared store. */
export const RESOURCE_SERVER_DPOP_OPTIONS = {
  dpopProof: {
    check: nested((value: Pick<DpopOptions, 'proofMaxAge' | 'replayCacheSize' | 'nonceSecrets' | 'nonceStep'>) => {
      const { proofMaxAge, replayCacheSize, nonceSecrets, nonceStep } = resolveDpopOptions(value);
      return { proofMaxAge, replayCacheSize, nonceSecrets, nonceStep };
    }),
    defaultText: '`{ proofMaxAge: 60, replayCacheSize: 100000 }`, no nonces',
    type: '`{ proofMaxAge?, replayCacheSize?, nonceSecrets?, nonceStep? }`',
    description:
      "how old a DPoP proof's `iat` may be (seconds), how many proof `jti`s are remembered in memory, and the secrets and step of the nonces of guards with `dpopNonce` (as the instance's `dpop` option)",
  },
  replayStore: {
    check: withMethods<ReplayStore>('replayStore must have claimOnce() (the Store interface)', 'claimOnce'),
    optional: true,
    defaultText: 'unset: in memory, per process',
    type: '`ReplayStore`',
    description: 'where proof `jti`s are claimed (RFC 9449 §11.1) so instances of the service refuse each other\'s replays: any store with `claimOnce` (SQLite, PostgreSQL)',
  },
} satisfies OptionTable;
