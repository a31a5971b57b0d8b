// Options of the instance and the guard: their types, the one DEFAULTS object, and resolution with TypeError on misuse.
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from './core/keys';
import { normalizeScopes } from './core/scope';
import type { Store } from './store/types';

/** Where the library reports what an operator should see. Never given a secret or a token. */
export interface Logger {
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

/** Options of {@link createOAuth} (and of the zero-config default instance). */
export interface OAuthOptions {
  /** The issuer identifier (RFC 8414 §2): an https URL (http allowed for localhost), no query or fragment. */
  issuer?: string;
  /** A store to use instead of opening the SQLite file at `database`. */
  store?: Store;
  /** SQLite file opened when no `store` is given. */
  database?: string;
  /** The `aud` of tokens issued without a `resource` parameter; default: the issuer. */
  audience?: string;
  /** Access token lifetime in seconds. */
  accessTokenLifetime?: number;
  /** Algorithm of newly generated signing keys. */
  signingAlgorithm?: SigningAlgorithm;
  /** bcrypt cost for new secrets (and for the dummy hash that hides unknown client ids). */
  bcryptCost?: number;
  /** Path of the token endpoint, relative to where `tokenRouter()` is mounted. */
  tokenPath?: string;
  /** Realm of `WWW-Authenticate` challenges. */
  realm?: string;
  /** Clock skew tolerated when checking `exp`, `nbf` and `iat`, in seconds. */
  clockTolerance?: number;
  /** Largest token request body, in bytes. */
  bodyLimit?: number;
  /** How often (ms) to look for changes made by other processes (CLI, other instances). */
  syncInterval?: number;
  /** Current time in epoch milliseconds; inject a fake for tests. */
  clock?: () => number;
  /** Where warnings and internal errors go. */
  logger?: Logger;
  /** How many bcrypt-verified client secrets to remember (as keyed hashes) so returning clients skip bcrypt; 0 turns it off. */
  verifiedSecretCacheSize?: number;
  /** Seconds a remembered secret verification counts before bcrypt runs again. */
  verifiedSecretMaxAge?: number;
  /** Most bcrypt comparisons in flight at once, so they never hold every thread of libuv's pool (which also signs tokens). */
  bcryptConcurrency?: number;
}

/** Options of one `requireScope()` guard. */
export interface GuardOptions {
  /** Accepted token audiences; default: the instance's `audience`. */
  audience?: string | readonly string[];
  /** Accept a token in an `application/x-www-form-urlencoded` body (RFC 6750 §2.2). */
  allowBodyToken?: boolean;
  /** Also accept a foreign issuer's `scp` array claim when a token has no `scope` string. */
  acceptScp?: boolean;
  /** Realm of this guard's challenges; default: the instance's `realm`. */
  realm?: string;
  /** How many verified tokens the guard remembers (each until its `exp`); 0 turns the cache off. */
  tokenCacheSize?: number;
}

/** Used until an issuer is configured; a warning says so once. */
export const DEVELOPMENT_ISSUER = 'http://localhost:3000';

/** Every default, in one place; the README's options table mirrors it. */
export const DEFAULTS = {
  database: './oauth.sqlite',
  accessTokenLifetime: 3600,
  signingAlgorithm: 'RS256' as SigningAlgorithm,
  bcryptCost: 10,
  tokenPath: '/oauth/token',
  realm: 'oauth',
  clockTolerance: 5,
  bodyLimit: 8 * 1024,
  syncInterval: 500,
  allowBodyToken: false,
  acceptScp: false,
  verifiedSecretCacheSize: 10_000,
  verifiedSecretMaxAge: 3600,
  bcryptConcurrency: 2,
  tokenCacheSize: 10_000,
} as const;

export interface ResolvedOptions {
  issuer: string;
  issuerIsDefault: boolean;
  store: Store | undefined;
  database: string;
  audience: string;
  accessTokenLifetime: number;
  signingAlgorithm: SigningAlgorithm;
  bcryptCost: number;
  tokenPath: string;
  realm: string;
  clockTolerance: number;
  bodyLimit: number;
  syncInterval: number;
  clock: () => number;
  logger: Logger;
  verifiedSecretCacheSize: number;
  verifiedSecretMaxAge: number;
  bcryptConcurrency: number;
}

export interface ResolvedGuardOptions {
  audience: readonly string[];
  allowBodyToken: boolean;
  acceptScp: boolean;
  realm: string;
  tokenCacheSize: number;
}

const consoleLogger: Logger = {
  warn: (message) => console.warn(`[express-client-credentials] ${message}`),
  error: (message, error) =>
    console.error(`[express-client-credentials] ${message}`, error instanceof Error ? error.message : ''),
};

function positiveInteger(value: unknown, name: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function nonNegativeNumber(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${name} must be a non-negative number`);
  }
  return value;
}

/** RFC 8414 §2: an https URL without query or fragment; plain http only for loopback development. */
export function validateIssuer(value: unknown, name = 'issuer'): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a URL string`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${name} must be an absolute URL`);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new TypeError(`${name} must use https (http is allowed only for localhost)`);
  }
  if (url.search !== '' || url.hash !== '' || value.includes('?') || value.includes('#')) {
    throw new TypeError(`${name} must not have a query or fragment (RFC 8414 §2)`);
  }
  return value;
}

function pathOption(value: unknown, name: string): string {
  if (typeof value !== 'string' || !value.startsWith('/') || /[\s?#]/.test(value)) {
    throw new TypeError(`${name} must be a path starting with "/"`);
  }
  return value;
}

function realmOption(value: unknown, name: string): string {
  if (typeof value !== 'string' || !/^[\x20-\x7E]*$/.test(value)) {
    throw new TypeError(`${name} must be a string of printable ASCII characters`);
  }
  return value;
}

/** Resolves instance options against {@link DEFAULTS}; throws `TypeError` on misuse. */
export function resolveOptions(options: OAuthOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const issuerIsDefault = options.issuer === undefined;
  const issuer = issuerIsDefault ? DEVELOPMENT_ISSUER : validateIssuer(options.issuer);
  const audience = options.audience ?? issuer;
  if (typeof audience !== 'string' || audience === '') throw new TypeError('audience must be a non-empty string');
  const signingAlgorithm = options.signingAlgorithm ?? DEFAULTS.signingAlgorithm;
  if (!SIGNING_ALGORITHMS.includes(signingAlgorithm)) {
    throw new TypeError(`signingAlgorithm must be one of ${SIGNING_ALGORITHMS.join(', ')}`);
  }
  if (options.store !== undefined && (typeof options.store !== 'object' || options.store === null)) {
    throw new TypeError('store must implement the Store interface');
  }
  const database = options.database ?? DEFAULTS.database;
  if (typeof database !== 'string' || database === '') throw new TypeError('database must be a file path');
  if (options.clock !== undefined && typeof options.clock !== 'function') throw new TypeError('clock must be a function');
  const logger = options.logger ?? consoleLogger;
  if (typeof logger.warn !== 'function' || typeof logger.error !== 'function') {
    throw new TypeError('logger must have warn() and error()');
  }
  return {
    issuer,
    issuerIsDefault,
    store: options.store,
    database,
    audience,
    accessTokenLifetime: positiveInteger(options.accessTokenLifetime ?? DEFAULTS.accessTokenLifetime, 'accessTokenLifetime', 1, 86_400),
    signingAlgorithm,
    bcryptCost: positiveInteger(options.bcryptCost ?? DEFAULTS.bcryptCost, 'bcryptCost', 4, 31),
    tokenPath: pathOption(options.tokenPath ?? DEFAULTS.tokenPath, 'tokenPath'),
    realm: realmOption(options.realm ?? DEFAULTS.realm, 'realm'),
    clockTolerance: nonNegativeNumber(options.clockTolerance ?? DEFAULTS.clockTolerance, 'clockTolerance'),
    bodyLimit: positiveInteger(options.bodyLimit ?? DEFAULTS.bodyLimit, 'bodyLimit', 64, 1024 * 1024),
    syncInterval: positiveInteger(options.syncInterval ?? DEFAULTS.syncInterval, 'syncInterval', 10, 3_600_000),
    clock: options.clock ?? Date.now,
    logger,
    verifiedSecretCacheSize: positiveInteger(
      options.verifiedSecretCacheSize ?? DEFAULTS.verifiedSecretCacheSize, 'verifiedSecretCacheSize', 0, 10_000_000,
    ),
    verifiedSecretMaxAge: positiveInteger(options.verifiedSecretMaxAge ?? DEFAULTS.verifiedSecretMaxAge, 'verifiedSecretMaxAge', 1, 86_400),
    bcryptConcurrency: positiveInteger(options.bcryptConcurrency ?? DEFAULTS.bcryptConcurrency, 'bcryptConcurrency', 1, 1024),
  };
}

/** Resolves one guard's options against its instance's; throws `TypeError` on misuse. */
export function resolveGuardOptions(options: GuardOptions, instance: ResolvedOptions): ResolvedGuardOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('guard options must be an object');
  const audience = options.audience ?? instance.audience;
  const audiences = typeof audience === 'string' ? [audience] : [...audience];
  if (audiences.length === 0 || audiences.some((a) => typeof a !== 'string' || a === '')) {
    throw new TypeError('audience must be a non-empty string or array of strings');
  }
  return {
    audience: audiences,
    allowBodyToken: Boolean(options.allowBodyToken ?? DEFAULTS.allowBodyToken),
    acceptScp: Boolean(options.acceptScp ?? DEFAULTS.acceptScp),
    realm: realmOption(options.realm ?? instance.realm, 'realm'),
    tokenCacheSize: positiveInteger(options.tokenCacheSize ?? DEFAULTS.tokenCacheSize, 'tokenCacheSize', 0, 10_000_000),
  };
}

/** Validates the scopes a guard requires; throws `TypeError` when the route is defined, not on a request. */
export function resolveRequiredScopes(scopes: readonly unknown[]): string[] {
  if (scopes.length === 0) throw new TypeError('requireScope() needs at least one scope');
  if (scopes.some((s) => typeof s !== 'string')) throw new TypeError('requireScope() scopes must be strings');
  return normalizeScopes(scopes as string[], 'requireScope()');
}
