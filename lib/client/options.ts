// The token client's options, their defaults (CLIENT_DEFAULTS) and resolveTokenClientOptions(), which throws TypeError on misuse at construction.
import { normalizeResources, normalizeScopes } from './cache-key';
import {
  ASSERTION_SIGNING_ALGORITHMS,
  CLIENT_AUTH_METHODS,
  defaultAlgorithm,
  toPrivateKeyObject,
  type AssertionSigningAlgorithm,
  type ClientAuthMethod,
  type ClientCredential,
  type PrivateKeyInput,
} from './client-auth';

/** Defaults of {@link TokenClientOptions}. Durations in milliseconds. */
export const CLIENT_DEFAULTS = {
  /** How a client authenticates at the token endpoint (RFC 6749 §2.3.1). */
  clientAuthMethod: 'client_secret_basic' as ClientAuthMethod,
  /** Refresh this long before expiry... */
  refreshBufferMs: 60_000,
  /** ...but never earlier than this fraction of the token's lifetime (a 30 s token is refreshed after 15 s, not at once). */
  refreshBufferMaxFraction: 0.5,
  /** Cache entries (one per scope set + resources), least recently used dropped first. */
  maxEntries: 100,
  /** First wait after a failed token request; doubles per consecutive failure... */
  backoffInitialMs: 1_000,
  /** ...up to this. */
  backoffMaxMs: 30_000,
  /** A `Retry-After` longer than this is honoured only up to this. */
  retryAfterMaxMs: 600_000,
  /** A metadata or token request gives up after this long. */
  requestTimeoutMs: 10_000,
  /** A token this young that a resource rejects is not replaced: the 401 is returned (no retry loop). */
  freshTokenMs: 5_000,
};

/** Options of {@link createTokenClient}. Give `issuer` or `tokenEndpoint`. */
export interface TokenClientOptions {
  /** The authorization server's issuer identifier; its token endpoint is read from RFC 8414 metadata. */
  issuer?: string;
  /** The token endpoint itself, when there is no metadata to read. */
  tokenEndpoint?: string;
  clientId: string;
  /** The client secret; give this or `privateKey`. */
  clientSecret?: string;
  /**
   * The client's private key (KeyObject, PEM or private JWK), for `private_key_jwt` (RFC 7523 §2.2): a
   * fresh signed assertion per token request, so no secret ever travels. Give this or `clientSecret`.
   */
  privateKey?: PrivateKeyInput;
  /** The `kid` of `privateKey` as registered at the server (helps it pick the key). */
  privateKeyId?: string;
  /** Signing algorithm; default from the key: ES256 / ES384 by curve, RS256 for RSA, PS256 for RSA-PSS, EdDSA for Ed25519. */
  privateKeyAlg?: AssertionSigningAlgorithm;
  /**
   * Default `client_secret_basic` with a secret, `private_key_jwt` with a private key; `client_secret_post`
   * sends the credentials in the form body.
   */
  clientAuthMethod?: ClientAuthMethod;
  /**
   * DPoP (RFC 9449): the client makes one ES256 key pair, asks for tokens bound to it, and proves
   * possession to every resource it calls (retrying once when a server asks for a nonce). A stolen
   * token is then useless without the key, which never leaves this process. Default false.
   */
  dpop?: boolean;
  /** Scopes asked for when a call names none. */
  scope?: string | readonly string[];
  /** RFC 8707 resource indicator(s) asked for when a call names none. */
  resource?: string | readonly string[];
  /** Default 60 000 ms. */
  refreshBufferMs?: number;
  /** Default 0.5. */
  refreshBufferMaxFraction?: number;
  /** Default 100. */
  maxEntries?: number;
  /** Default 1 000 ms. */
  backoffInitialMs?: number;
  /** Default 30 000 ms. */
  backoffMaxMs?: number;
  /** Default 600 000 ms. */
  retryAfterMaxMs?: number;
  /** Default 10 000 ms. */
  requestTimeoutMs?: number;
  /** Default 5 000 ms. */
  freshTokenMs?: number;
  /**
   * Allow plain `http:` for a non-loopback authorization server. `http://127.0.0.1`, `[::1]` and
   * `localhost` are always allowed (nothing leaves the machine); anything else needs `https:`.
   */
  allowInsecureRequests?: boolean;
  /** The fetch used for metadata, tokens and resources. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Current time in epoch milliseconds (tests inject a fake clock). */
  now?: () => number;
  /** Called when an event listener throws. */
  onListenerError?: (err: unknown) => void;
}

/** Options with every default applied. */
export interface ResolvedTokenClientOptions
  extends Required<
    Omit<TokenClientOptions, 'issuer' | 'tokenEndpoint' | 'scope' | 'resource' | 'clientSecret' | 'privateKey' | 'privateKeyId' | 'privateKeyAlg'>
  > {
  /** How the client proves itself, with the key material already read. */
  credential: ClientCredential;
  issuer: string | undefined;
  tokenEndpoint: string | undefined;
  scopes: string[];
  resources: string[];
}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

function checkUrl(value: unknown, name: string, allowInsecure: boolean): string {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a URL string`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${name} must be an absolute URL, not ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`${name} must be an https URL`);
  if (url.protocol === 'http:' && !allowInsecure && !LOOPBACK.has(url.hostname)) {
    throw new TypeError(`${name} must be https (set allowInsecureRequests for plain http off this machine)`);
  }
  return value;
}

function checkNumber(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER, integer = true): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new TypeError(`${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
  return value;
}

/** Whether plain http to this URL stays on the machine. */
export function isLoopback(url: string): boolean {
  return LOOPBACK.has(new URL(url).hostname);
}

/** Applies defaults and checks every option; misuse is a TypeError here, never on the first call. */
export function resolveTokenClientOptions(options: TokenClientOptions): ResolvedTokenClientOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('createTokenClient needs an options object');
  const allowInsecureRequests = options.allowInsecureRequests ?? false;
  if (typeof allowInsecureRequests !== 'boolean') throw new TypeError('allowInsecureRequests must be a boolean');
  if ((options.issuer === undefined) === (options.tokenEndpoint === undefined)) {
    throw new TypeError('give exactly one of issuer and tokenEndpoint');
  }
  const issuer = options.issuer === undefined ? undefined : checkUrl(options.issuer, 'issuer', allowInsecureRequests);
  const tokenEndpoint = options.tokenEndpoint === undefined ? undefined : checkUrl(options.tokenEndpoint, 'tokenEndpoint', allowInsecureRequests);
  if (typeof options.clientId !== 'string' || options.clientId === '') throw new TypeError('clientId must be a non-empty string');
  const credential = resolveCredential(options);
  const clientAuthMethod = credential.method;
  if (options.dpop !== undefined && typeof options.dpop !== 'boolean') throw new TypeError('dpop must be a boolean');
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new TypeError('fetch must be a function (Node 18+ has a global fetch)');
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new TypeError('now must be a function');
  const backoffInitialMs = checkNumber(options.backoffInitialMs ?? CLIENT_DEFAULTS.backoffInitialMs, 'backoffInitialMs', 1);
  return {
    issuer,
    tokenEndpoint,
    clientId: options.clientId,
    credential,
    clientAuthMethod,
    dpop: options.dpop ?? false,
    scopes: normalizeScopes(options.scope),
    resources: normalizeResources(options.resource),
    refreshBufferMs: checkNumber(options.refreshBufferMs ?? CLIENT_DEFAULTS.refreshBufferMs, 'refreshBufferMs', 0),
    refreshBufferMaxFraction: checkNumber(
      options.refreshBufferMaxFraction ?? CLIENT_DEFAULTS.refreshBufferMaxFraction,
      'refreshBufferMaxFraction',
      0,
      0.9,
      false,
    ),
    maxEntries: checkNumber(options.maxEntries ?? CLIENT_DEFAULTS.maxEntries, 'maxEntries', 1),
    backoffInitialMs,
    backoffMaxMs: checkNumber(options.backoffMaxMs ?? CLIENT_DEFAULTS.backoffMaxMs, 'backoffMaxMs', backoffInitialMs),
    retryAfterMaxMs: checkNumber(options.retryAfterMaxMs ?? CLIENT_DEFAULTS.retryAfterMaxMs, 'retryAfterMaxMs', 0),
    requestTimeoutMs: checkNumber(options.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs, 'requestTimeoutMs', 1),
    freshTokenMs: checkNumber(options.freshTokenMs ?? CLIENT_DEFAULTS.freshTokenMs, 'freshTokenMs', 0),
    allowInsecureRequests,
    fetch: fetchImpl,
    now,
    onListenerError: options.onListenerError ?? (() => undefined),
  };
}

/** The credential: a secret or a private key, never both; the method must fit it. Never echoes key material or a secret. */
function resolveCredential(options: TokenClientOptions): ClientCredential {
  const hasSecret = options.clientSecret !== undefined;
  const hasKey = options.privateKey !== undefined;
  if (hasSecret === hasKey) throw new TypeError('give exactly one of clientSecret and privateKey');
  const method = options.clientAuthMethod ?? (hasKey ? 'private_key_jwt' : CLIENT_DEFAULTS.clientAuthMethod);
  if (!CLIENT_AUTH_METHODS.includes(method)) throw new TypeError(`clientAuthMethod must be one of ${CLIENT_AUTH_METHODS.join(', ')}`);
  if (hasSecret) {
    if (typeof options.clientSecret !== 'string' || options.clientSecret === '') throw new TypeError('clientSecret must be a non-empty string');
    if (method === 'private_key_jwt') throw new TypeError('private_key_jwt needs privateKey, not clientSecret');
    return { method, clientSecret: options.clientSecret };
  }
  if (method !== 'private_key_jwt') throw new TypeError(`${method} needs clientSecret; a privateKey signs private_key_jwt assertions`);
  const privateKey = toPrivateKeyObject(options.privateKey as PrivateKeyInput);
  const alg = options.privateKeyAlg ?? defaultAlgorithm(privateKey);
  if (!ASSERTION_SIGNING_ALGORITHMS.includes(alg)) throw new TypeError(`privateKeyAlg must be one of ${ASSERTION_SIGNING_ALGORITHMS.join(', ')}`);
  if (options.privateKeyId !== undefined && (typeof options.privateKeyId !== 'string' || options.privateKeyId === '')) {
    throw new TypeError('privateKeyId must be a non-empty string');
  }
  return { method, privateKey, kid: options.privateKeyId, alg };
}
