// Options of the instance and the guard: their types, the one DEFAULTS object, and resolution with TypeError on misuse.
import { availableParallelism } from 'node:os';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from './core/tokens/keys';
import { isScopeToken, normalizeScopes } from './core/model/scope';
import type { Store } from './store/types';
import { KeyEncryption } from './core/tokens/key-encryption';
import type { MetricsOptions } from './core/observability/metrics';
import { toLogger } from './core/observability/logger';

/**
 * Where the library reports what an operator should see. Never given a secret or a token. A pino
 * logger fits as it is: it is recognised and called pino's way, `error({ error: { type, message } }, message)`.
 */
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
  /**
   * How long (ms) a write waits for a SQLite database another process is writing. better-sqlite3
   * waits synchronously, stalling every request meanwhile, so the server waits briefly and answers
   * 503 with `Retry-After` instead (the CLI waits 5 s).
   */
  busyTimeout?: number;
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
  /** Scopes advertised as `scopes_supported` in the RFC 8414 metadata; omitted when not set. */
  scopesSupported?: readonly string[];
  /** Scope a client needs to call the introspection endpoint (RFC 7662 §2.1). */
  introspectionScope?: string;
  /** Issue opaque reference tokens to every client (`'reference'`), or only to clients whose `tokenFormat` says so (`'jwt'`). */
  tokenFormat?: 'jwt' | 'reference';
  /** Rotate the signing key automatically once the active key is this many days old; off when unset. */
  keyRotationDays?: number;
  /**
   * Encrypts private signing keys at rest (AES-256-GCM, key derived with HKDF): a secret of at least
   * 32 characters, or a list whose first secret encrypts and every one decrypts (to rotate the secret).
   * Stored clear keys are encrypted when the server opens them. Env `OAUTH_KEY_SECRET` (comma-separated).
   */
  keySecret?: string | readonly string[];
  /** Largest total size of a token request's headers, in bytes (431 beyond it). */
  headerLimit?: number;
  /** Refuse token requests that did not arrive over TLS (`req.secure`, which honours Express's `trust proxy`). Default: true when `NODE_ENV=production`. */
  requireTls?: boolean;
  /** Failed client authentications one address may make per `addressFailureWindow` before it is refused (429) until the window passes; 0 turns the limit off. */
  addressFailureLimit?: number;
  /** Window of `addressFailureLimit`, in seconds. */
  addressFailureWindow?: number;
  /** Failed authentications for one `client_id` (from any address) per `clientFailureWindow` before that id backs off; 0 turns the limit off. */
  clientFailureLimit?: number;
  /** Window of `clientFailureLimit`, in seconds. */
  clientFailureWindow?: number;
  /** Longest back-off of a `client_id`, in seconds: it starts at 1 s and doubles each time the limit is hit again. */
  clientMaxBackoff?: number;
  /** bcrypt comparisons allowed in flight at once; default: the number of CPU cores. */
  maxConcurrentAuthentications?: number;
  /** Authentications allowed to wait for a free slot; beyond it, 503 with `Retry-After` at once. */
  maxQueuedAuthentications?: number;
  /** OpenTelemetry metrics (see docs/operations.md): the provider (default: the global one) and whether client ids become labels. */
  metrics?: MetricsOptions;
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
  /**
   * Verify tokens of an authorization server in another process: its issuer URL. The guard reads
   * the issuer's RFC 8414 metadata and JWKS once and keeps them in memory; `audience` is then required.
   */
  issuer?: string;
  /** Remote guards only: ask the issuer's introspection endpoint (RFC 7662) instead of checking JWTs locally. */
  introspection?: IntrospectionClientOptions;
}

/** How a remote guard authenticates to the issuer's introspection endpoint, and how long it caches answers. */
export interface IntrospectionClientOptions {
  clientId: string;
  clientSecret: string;
  /** Seconds an active answer is reused (never past the token's `exp`). Default 10. */
  cacheTtl?: number;
  /** Most answers kept at once. Default 10000. */
  cacheMax?: number;
}

/** Used until an issuer is configured; a warning says so once. */
export const DEVELOPMENT_ISSUER = 'http://localhost:3000';

/** Every default, in one place; the README's options table mirrors it. */
export const DEFAULTS = {
  database: './oauth.sqlite',
  busyTimeout: 100,
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
  tokenCacheSize: 10_000,
  introspectionScope: 'oauth:introspect',
  tokenFormat: 'jwt' as 'jwt' | 'reference',
  /** Remote guards: a JWKS or metadata fetch gives up after this many ms. */
  fetchTimeout: 5000,
  /** Remote guards: at most one JWKS refetch per this many ms for unknown key ids (a request with a new kid waits at most this long). */
  jwksCooldown: 2000,
  /** Remote guards: the JWKS is refreshed in the background this often (ms), to drop retired keys. */
  jwksRefreshInterval: 300_000,
  introspectionCacheTtl: 10,
  introspectionCacheMax: 10_000,
  headerLimit: 8 * 1024,
  requireTls: false,
  addressFailureLimit: 30,
  addressFailureWindow: 600,
  clientFailureLimit: 20,
  clientFailureWindow: 60,
  clientMaxBackoff: 60,
  maxConcurrentAuthentications: availableParallelism(),
  maxQueuedAuthentications: 32,
  adminScope: 'oauth:admin',
} as const;

export interface ResolvedOptions {
  issuer: string;
  issuerIsDefault: boolean;
  store: Store | undefined;
  database: string;
  busyTimeout: number;
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
  scopesSupported: string[] | undefined;
  introspectionScope: string;
  tokenFormat: 'jwt' | 'reference';
  keyRotationDays: number | undefined;
  /** Built from `keySecret`; the secrets themselves are not kept. */
  keyEncryption: KeyEncryption | undefined;
  headerLimit: number;
  requireTls: boolean;
  addressFailureLimit: number;
  addressFailureWindow: number;
  clientFailureLimit: number;
  clientFailureWindow: number;
  clientMaxBackoff: number;
  maxConcurrentAuthentications: number;
  maxQueuedAuthentications: number;
}

/** What the resolution may learn from the process environment; only the entry points read it (see createOAuth). */
export interface OptionEnvironment {
  /** `process.env.NODE_ENV`: `production` turns `requireTls` on unless it is set. */
  nodeEnv?: string | undefined;
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

/** A flag must be a real boolean: `Boolean('false')` is true, and a security switch must not flip on a typo. */
function booleanOption(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be true or false`);
  return value;
}

function realmOption(value: unknown, name: string): string {
  if (typeof value !== 'string' || !/^[\x20-\x7E]*$/.test(value)) {
    throw new TypeError(`${name} must be a string of printable ASCII characters`);
  }
  return value;
}

/** Resolves instance options against {@link DEFAULTS} (and `env` for environment-dependent defaults); throws `TypeError` on misuse. */
export function resolveOptions(options: OAuthOptions = {}, env: OptionEnvironment = {}): ResolvedOptions {
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
  const given = options.logger ?? consoleLogger;
  if (typeof given !== 'object' || given === null || typeof given.warn !== 'function' || typeof given.error !== 'function') {
    throw new TypeError('logger must have warn() and error()');
  }
  // A pino logger is taken as it is and called its own way (see toLogger).
  const logger = toLogger(given);
  return {
    issuer,
    issuerIsDefault,
    store: options.store,
    database,
    busyTimeout: positiveInteger(options.busyTimeout ?? DEFAULTS.busyTimeout, 'busyTimeout', 0, 60_000),
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
    scopesSupported: options.scopesSupported === undefined ? undefined : normalizeScopes([...options.scopesSupported], 'scopesSupported'),
    introspectionScope: normalizeScopes([options.introspectionScope ?? DEFAULTS.introspectionScope], 'introspectionScope')[0] as string,
    tokenFormat: tokenFormatOption(options.tokenFormat ?? DEFAULTS.tokenFormat),
    keyRotationDays:
      options.keyRotationDays === undefined ? undefined : positiveInteger(options.keyRotationDays, 'keyRotationDays', 1, 3650),
    keyEncryption: keySecretOption(options.keySecret),
    ...resolveAbuseOptions(options, env),
  };
}

/** The limits of lib/core/auth-guard.ts and the token endpoint's transport checks. */
function resolveAbuseOptions(options: OAuthOptions, env: OptionEnvironment) {
  const day = 86_400;
  return {
    headerLimit: positiveInteger(options.headerLimit ?? DEFAULTS.headerLimit, 'headerLimit', 1024, 1024 * 1024),
    requireTls: booleanOption(options.requireTls ?? (env.nodeEnv === 'production' || DEFAULTS.requireTls), 'requireTls'),
    addressFailureLimit: positiveInteger(options.addressFailureLimit ?? DEFAULTS.addressFailureLimit, 'addressFailureLimit', 0, 1_000_000),
    addressFailureWindow: positiveInteger(options.addressFailureWindow ?? DEFAULTS.addressFailureWindow, 'addressFailureWindow', 1, day),
    clientFailureLimit: positiveInteger(options.clientFailureLimit ?? DEFAULTS.clientFailureLimit, 'clientFailureLimit', 0, 1_000_000),
    clientFailureWindow: positiveInteger(options.clientFailureWindow ?? DEFAULTS.clientFailureWindow, 'clientFailureWindow', 1, day),
    clientMaxBackoff: positiveInteger(options.clientMaxBackoff ?? DEFAULTS.clientMaxBackoff, 'clientMaxBackoff', 1, day),
    maxConcurrentAuthentications: positiveInteger(
      options.maxConcurrentAuthentications ?? DEFAULTS.maxConcurrentAuthentications,
      'maxConcurrentAuthentications',
      1,
      1024,
    ),
    maxQueuedAuthentications: positiveInteger(
      options.maxQueuedAuthentications ?? DEFAULTS.maxQueuedAuthentications,
      'maxQueuedAuthentications',
      0,
      100_000,
    ),
  };
}

function keySecretOption(value: unknown): KeyEncryption | undefined {
  if (value === undefined) return undefined;
  // KeyEncryption throws TypeError for an empty list or a short secret, without echoing it.
  return new KeyEncryption(typeof value === 'string' ? [value] : Array.isArray(value) ? [...(value as string[])] : []);
}

function tokenFormatOption(value: unknown): 'jwt' | 'reference' {
  if (value !== 'jwt' && value !== 'reference') throw new TypeError('tokenFormat must be "jwt" or "reference"');
  return value;
}

/** Resolves one guard's options against its instance's; throws `TypeError` on misuse. */
export function resolveGuardOptions(options: GuardOptions, instance: ResolvedOptions): ResolvedGuardOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('guard options must be an object');
  if ((options.issuer !== undefined && options.issuer !== instance.issuer) || options.introspection !== undefined) {
    throw new TypeError('this guard verifies its own instance\'s tokens; for another issuer use createResourceServer()');
  }
  const audience: unknown = options.audience ?? instance.audience;
  const audiences: unknown[] = typeof audience === 'string' ? [audience] : Array.isArray(audience) ? [...audience] : [];
  if (audiences.length === 0 || audiences.some((a) => typeof a !== 'string' || a === '')) {
    throw new TypeError('audience must be a non-empty string or array of strings');
  }
  return {
    audience: audiences as string[],
    allowBodyToken: booleanOption(options.allowBodyToken ?? DEFAULTS.allowBodyToken, 'allowBodyToken'),
    acceptScp: booleanOption(options.acceptScp ?? DEFAULTS.acceptScp, 'acceptScp'),
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

/** Options of {@link createResourceServer}: a service that checks another process's tokens, with no database. */
export interface ResourceServerOptions {
  /** The authorization server's issuer identifier; its metadata is read from `<issuer>/.well-known/oauth-authorization-server`. */
  issuer: string;
  /** This service's audience (RFC 8707 resource); tokens must carry it in `aud`. */
  audience: string | readonly string[];
  /** Check every token at the issuer's introspection endpoint (RFC 7662) instead of locally against the JWKS. */
  introspection?: IntrospectionClientOptions;
  allowBodyToken?: boolean;
  acceptScp?: boolean;
  realm?: string;
  clockTolerance?: number;
  /** ms before a metadata, JWKS or introspection request gives up. */
  fetchTimeout?: number;
  /** ms between two JWKS refetches for unknown key ids; also the `Retry-After` of a 503 before warm-up. */
  jwksCooldown?: number;
  /** ms between background JWKS refreshes. */
  jwksRefreshInterval?: number;
  /** JWKS guards: how many verified tokens each guard remembers (each until its `exp`, while its key is published); 0 turns the cache off. Default 10000. */
  tokenCacheSize?: number;
  clock?: () => number;
  logger?: Logger;
  /** OpenTelemetry metrics of the guards (see docs/operations.md). */
  metrics?: MetricsOptions;
}

export interface ResolvedResourceServerOptions {
  issuer: string;
  audience: readonly string[];
  introspection:
    | { clientId: string; clientSecret: string; cacheTtlMs: number; cacheMax: number }
    | undefined;
  allowBodyToken: boolean;
  acceptScp: boolean;
  realm: string;
  clockTolerance: number;
  fetchTimeout: number;
  jwksCooldown: number;
  jwksRefreshInterval: number;
  tokenCacheSize: number;
  clock: () => number;
  logger: Logger;
}

function audienceOption(audience: unknown): string[] {
  const audiences = typeof audience === 'string' ? [audience] : Array.isArray(audience) ? [...(audience as unknown[])] : [];
  if (audiences.length === 0 || audiences.some((a) => typeof a !== 'string' || a === '')) {
    throw new TypeError('audience must be a non-empty string or array of strings');
  }
  return audiences as string[];
}

/** Resolves resource server options (or a remote guard's) against {@link DEFAULTS}; throws `TypeError` on misuse. */
export function resolveResourceServerOptions(options: ResourceServerOptions): ResolvedResourceServerOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (options.audience === undefined) {
    throw new TypeError('a guard for a remote issuer needs its audience (RFC 9068 §4: aud must be checked)');
  }
  const intro = options.introspection;
  if (intro !== undefined) {
    if (typeof intro !== 'object' || intro === null) throw new TypeError('introspection must be an object');
    if (typeof intro.clientId !== 'string' || intro.clientId === '' || typeof intro.clientSecret !== 'string' || intro.clientSecret === '') {
      throw new TypeError('introspection needs clientId and clientSecret');
    }
  }
  if (options.clock !== undefined && typeof options.clock !== 'function') throw new TypeError('clock must be a function');
  const given = options.logger ?? consoleLogger;
  if (typeof given !== 'object' || given === null || typeof given.warn !== 'function' || typeof given.error !== 'function') {
    throw new TypeError('logger must have warn() and error()');
  }
  // A pino logger is taken as it is and called its own way (see toLogger).
  const logger = toLogger(given);
  return {
    issuer: validateIssuer(options.issuer),
    audience: audienceOption(options.audience),
    introspection:
      intro === undefined
        ? undefined
        : {
            clientId: intro.clientId,
            clientSecret: intro.clientSecret,
            cacheTtlMs: 1000 * nonNegativeNumber(intro.cacheTtl ?? DEFAULTS.introspectionCacheTtl, 'introspection.cacheTtl'),
            cacheMax: positiveInteger(intro.cacheMax ?? DEFAULTS.introspectionCacheMax, 'introspection.cacheMax', 1, 1_000_000),
          },
    allowBodyToken: Boolean(options.allowBodyToken ?? DEFAULTS.allowBodyToken),
    acceptScp: Boolean(options.acceptScp ?? DEFAULTS.acceptScp),
    realm: realmOption(options.realm ?? DEFAULTS.realm, 'realm'),
    clockTolerance: nonNegativeNumber(options.clockTolerance ?? DEFAULTS.clockTolerance, 'clockTolerance'),
    fetchTimeout: positiveInteger(options.fetchTimeout ?? DEFAULTS.fetchTimeout, 'fetchTimeout', 1, 600_000),
    jwksCooldown: positiveInteger(options.jwksCooldown ?? DEFAULTS.jwksCooldown, 'jwksCooldown', 0, 3_600_000),
    jwksRefreshInterval: positiveInteger(options.jwksRefreshInterval ?? DEFAULTS.jwksRefreshInterval, 'jwksRefreshInterval', 1000, 86_400_000),
    tokenCacheSize: positiveInteger(options.tokenCacheSize ?? DEFAULTS.tokenCacheSize, 'tokenCacheSize', 0, 10_000_000),
    clock: options.clock ?? Date.now,
    logger,
  };
}

/** Options of `adminRouter()`. */
export interface AdminRouterOptions {
  /** The scope a caller's access token must carry (default `oauth:admin`). */
  scope?: string;
  /** Options of the guard in front of the admin API (accepted audience, realm). */
  guard?: GuardOptions;
}

export interface ResolvedAdminRouterOptions {
  scope: string;
  guard: GuardOptions;
}

/** Resolves `adminRouter()` options; throws `TypeError` on misuse. */
export function resolveAdminRouterOptions(options: AdminRouterOptions = {}): ResolvedAdminRouterOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('adminRouter options must be an object');
  const scope = options.scope ?? DEFAULTS.adminScope;
  if (!isScopeToken(scope)) throw new TypeError('adminRouter scope must be one RFC 6749 §3.3 scope-token');
  const guard = options.guard ?? {};
  if (typeof guard !== 'object' || guard === null) throw new TypeError('adminRouter guard options must be an object');
  return { scope, guard };
}
