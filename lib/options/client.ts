// The token client family: options of createTokenClient() (subpath ./client), their table and CLIENT_DEFAULTS, resolved once at construction.
import {
  ASSERTION_SIGNING_ALGORITHMS,
  CLIENT_AUTH_METHODS,
  defaultAlgorithm,
  toPrivateKeyObject,
  type AssertionSigningAlgorithm,
  type ClientAuthMethod,
  type ClientCredential,
  type PrivateKeyInput,
} from '../client/auth-methods';
import type { KeyObject } from 'node:crypto';
import { normalizeResources, normalizeScopes } from '../client/cache-key';
import {
  boolean,
  collectDefaults,
  func,
  httpUrl,
  integer,
  nonEmptyString,
  numberBetween,
  oneOf,
  optionsObject,
  resolveTable,
  type Check,
  type DefaultsOf,
  type OptionTable,
  type OptionsOf,
  type ResolvedOf,
} from './validate';

const MAX = Number.MAX_SAFE_INTEGER;
const scopeCheck: Check<string | readonly string[], string[]> = (value) => normalizeScopes(value as string | readonly string[]);
const resourceCheck: Check<string | readonly string[], string[]> = (value) => normalizeResources(value as string | readonly string[]);

/** `createTokenClient()`: a client that gets and caches tokens for calling other services. Durations in milliseconds. */
export const TOKEN_CLIENT_OPTIONS = {
  issuer: {
    check: httpUrl(),
    optional: true,
    defaultText: 'one of the two',
    type: '`string`',
    description:
      'the issuer; the token endpoint is read from `/.well-known/oauth-authorization-server` once, and again after a token request that failed without an OAuth error (network, 404, 5xx)',
  },
  tokenEndpoint: { check: httpUrl(), optional: true, defaultText: 'one of the two', type: '`string`', description: 'the token endpoint itself' },
  clientId: { check: nonEmptyString(), required: true, defaultText: 'required', type: '`string`', description: "the client's id" },
  // Never echoed, even in a TypeError: nonEmptyString() names the option, not the value.
  clientSecret: { check: nonEmptyString(), optional: true, defaultText: 'one of `clientSecret` and `privateKey`', type: '`string`', description: "the client's secret" },
  privateKey: {
    // Read into a KeyObject at construction; a TypeError never carries key material.
    check: ((value) => toPrivateKeyObject(value as PrivateKeyInput)) as Check<PrivateKeyInput, KeyObject>,
    optional: true,
    defaultText: 'one of `clientSecret` and `privateKey`',
    type: '`KeyObject \\| string` (PEM) `\\| JsonWebKey`',
    description: 'signs a fresh `private_key_jwt` assertion (RFC 7523 §2.2) per token request: no secret travels',
  },
  privateKeyId: { check: nonEmptyString(), optional: true, defaultText: 'unset', type: '`string`', description: "the `kid` of `privateKey` as registered at the server" },
  privateKeyAlg: {
    check: oneOf<AssertionSigningAlgorithm>(ASSERTION_SIGNING_ALGORITHMS),
    optional: true,
    defaultText: 'from the key: ES256 / ES384 by curve, RS256 for RSA, PS256 for RSA-PSS, EdDSA for Ed25519',
    type: "`'ES256' \\| 'ES384' \\| 'PS256' \\| 'RS256' \\| 'EdDSA'`",
    description: 'the algorithm `privateKey` signs assertions with',
  },
  clientAuthMethod: {
    check: oneOf<ClientAuthMethod>(CLIENT_AUTH_METHODS),
    optional: true,
    defaultText: "`'client_secret_basic'` with a secret, `'private_key_jwt'` with a key",
    type: "`'client_secret_basic' \\| 'client_secret_post' \\| 'private_key_jwt'`",
    description: 'Basic with id and secret form-encoded first (RFC 6749 §2.3.1), both in the body, or a signed assertion',
  },
  dpop: {
    check: boolean(),
    default: false,
    type: '`boolean`',
    description:
      "make one ES256 key pair for the client's life, ask for DPoP-bound tokens (RFC 9449) and send a proof with every token request and `client.fetch()`; a `use_dpop_nonce` answer is retried once with the server's nonce",
  },
  scope: { check: scopeCheck, defaultText: 'none', type: '`string \\| string[]`', description: 'scopes of calls that name none' },
  resource: { check: resourceCheck, defaultText: 'none', type: '`string \\| string[]`', description: 'RFC 8707 resources of calls that name none' },
  refreshBufferMs: { check: integer(0, MAX), default: 60_000, type: '`number` (ms)', description: 'refresh this long before expiry...' },
  refreshBufferMaxFraction: {
    check: numberBetween(0, 0.9),
    default: 0.5,
    type: '`number`',
    description: "...but not before this fraction of the lifetime has passed (a 30 s token is refreshed after 15 s, not at once)",
  },
  maxEntries: { check: integer(1, MAX), default: 100, type: '`number`', description: 'cache keys (scope set + resources) kept, least recently used dropped first' },
  backoffInitialMs: { check: integer(1, MAX), default: 1_000, type: '`number` (ms)', description: 'first wait after a failed token request; doubles per consecutive failure' },
  backoffMaxMs: { check: integer(1, MAX), default: 30_000, type: '`number` (ms)', description: 'longest wait after consecutive failures, at least `backoffInitialMs`' },
  retryAfterMaxMs: { check: integer(0, MAX), default: 600_000, type: '`number` (ms)', description: 'longest `Retry-After` (429, 503) honoured' },
  requestTimeoutMs: { check: integer(1, MAX), default: 10_000, type: '`number` (ms)', description: 'a metadata or token request gives up after this' },
  freshTokenMs: { check: integer(0, MAX), default: 5_000, type: '`number` (ms)', description: 'a rejected token younger than this is not replaced: the 401 is returned (no retry loop)' },
  allowInsecureRequests: {
    check: boolean(),
    default: false,
    type: '`boolean`',
    description: 'plain `http:` off this machine (`127.0.0.1`, `[::1]` and `localhost` are always allowed)',
  },
  fetch: { check: func<typeof fetch>(), defaultText: 'global `fetch`', type: '`typeof fetch`', description: 'used for metadata, tokens and resources' },
  now: { check: func<() => number>(), defaultText: '`Date.now`', type: '`() => number`', description: 'the clock, in epoch ms' },
  onListenerError: {
    check: func<(err: unknown) => void>(),
    defaultText: 'ignore',
    type: '`(err: unknown) => void`',
    description: 'called when an event listener throws',
  },
} satisfies OptionTable;

/** Options of `createTokenClient()`. Give `issuer` or `tokenEndpoint`. */
export type TokenClientOptions = OptionsOf<typeof TOKEN_CLIENT_OPTIONS>;

/** Options with every default applied; `scope` and `resource` as normalized lists; the key material read into `credential`. */
export type ResolvedTokenClientOptions = Omit<
  ResolvedOf<typeof TOKEN_CLIENT_OPTIONS>,
  'clientSecret' | 'privateKey' | 'privateKeyId' | 'privateKeyAlg' | 'clientAuthMethod'
> & {
  scope: string[];
  resource: string[];
  /** How the client proves itself (a secret, or a key with its `kid` and algorithm). */
  credential: ClientCredential;
  clientAuthMethod: ClientAuthMethod;
};

/** Defaults of {@link TokenClientOptions}, from the table. Durations in milliseconds. */
export const CLIENT_DEFAULTS: DefaultsOf<typeof TOKEN_CLIENT_OPTIONS> = collectDefaults([TOKEN_CLIENT_OPTIONS]);

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Whether plain http to this URL stays on the machine. */
export function isLoopback(url: string): boolean {
  return LOOPBACK.has(new URL(url).hostname);
}

/** Applies defaults and checks every option; misuse is a TypeError here, never on the first call. */
export function resolveTokenClientOptions(options: TokenClientOptions): ResolvedTokenClientOptions {
  optionsObject(options, 'createTokenClient options');
  if ((options.issuer === undefined) === (options.tokenEndpoint === undefined)) {
    throw new TypeError('give exactly one of issuer and tokenEndpoint');
  }
  const resolved = resolveTable(TOKEN_CLIENT_OPTIONS, options, '', {
    scope: () => [],
    resource: () => [],
    fetch: () => {
      if (typeof globalThis.fetch !== 'function') throw new TypeError('fetch must be a function (Node 18+ has a global fetch)');
      return globalThis.fetch;
    },
    now: () => Date.now,
    onListenerError: () => () => undefined,
  });
  for (const name of ['issuer', 'tokenEndpoint'] as const) {
    const url = resolved[name];
    if (url !== undefined && url.startsWith('http:') && !resolved.allowInsecureRequests && !isLoopback(url)) {
      throw new TypeError(`${name} must be https (set allowInsecureRequests for plain http off this machine)`);
    }
  }
  if (resolved.backoffMaxMs < resolved.backoffInitialMs) {
    throw new TypeError(`backoffMaxMs must be an integer from ${resolved.backoffInitialMs} to ${MAX}`);
  }
  const { clientSecret, privateKey, privateKeyId, privateKeyAlg, clientAuthMethod: _method, ...rest } = resolved;
  const credential = resolveCredential(resolved.clientAuthMethod, clientSecret, privateKey, privateKeyId, privateKeyAlg);
  return { ...(rest as Omit<ResolvedTokenClientOptions, 'credential' | 'clientAuthMethod'>), credential, clientAuthMethod: credential.method };
}

/** The credential: a secret or a private key, never both; the method must fit it. Never echoes key material or a secret. */
function resolveCredential(
  method: ClientAuthMethod | undefined,
  clientSecret: string | undefined,
  privateKey: KeyObject | undefined,
  kid: string | undefined,
  alg: AssertionSigningAlgorithm | undefined,
): ClientCredential {
  if ((clientSecret === undefined) === (privateKey === undefined)) throw new TypeError('give exactly one of clientSecret and privateKey');
  if (clientSecret !== undefined) {
    const chosen = method ?? 'client_secret_basic';
    if (chosen === 'private_key_jwt') throw new TypeError('private_key_jwt needs privateKey, not clientSecret');
    return { method: chosen, clientSecret };
  }
  const chosen = method ?? 'private_key_jwt';
  if (chosen !== 'private_key_jwt') throw new TypeError(`${chosen} needs clientSecret; a privateKey signs private_key_jwt assertions`);
  const key = privateKey as KeyObject;
  return { method: chosen, privateKey: key, kid, alg: alg ?? defaultAlgorithm(key) };
}
