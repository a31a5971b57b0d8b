// The one table of options: for every option of every family its check, default, README type and description; DEFAULTS, the option types and the README tables come from it.
import { availableParallelism } from 'node:os';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../core/tokens/keys';
import type { Store } from '../store/types';
import { TOKEN_CLIENT_OPTIONS } from './client';
import { HEALTH_OPTIONS, RESOURCE_METADATA_OPTIONS } from './operations';
import { toLogger } from '../core/observability/logger';
import { resolveMetricsOptions, type MetricsOptions, type ResolvedMetricsOptions } from '../core/observability/metrics';
import type { Logger } from '../core/model/logger';
import { KeyEncryption } from '../core/tokens/key-encryption';
import type { SharedLimitsPostgres, SharedLimitsRedis } from '../core/client-auth/shared-failure-limits';
import {
  CLIENT_ASSERTION_OPTIONS,
  DPOP_OPTIONS,
  GUARD_DPOP_OPTIONS,
  POSSESSION_INSTANCE_OPTIONS,
  RESOURCE_SERVER_DPOP_OPTIONS,
} from './possession';
import {
  audienceList,
  collectDefaults,
  type DefaultsOf,
  type OptionsOf,
  type ResolvedOf,
  boolean,
  databaseLocation,
  func,
  integer,
  issuerUrl,
  matching,
  servedIssuerUrl,
  logger,
  nonEmptyString,
  nonNegativeNumber,
  oneOf,
  realm,
  scopeList,
  scopeToken,
  singleScope,
  urlPath,
  withMethods,
  nested,
  resolveTable,
  type Check,
  type OptionTable,
} from './validate';

/*
 * Adding an option is one entry in one of the tables below (the family whose function takes it):
 *
 *   myOption: { check: integer(1, 100), default: 10, type: '`number` (seconds)', description: 'what it does, with its unit' },
 *
 * The entry gives the option's public type (from `check`), its validation (a TypeError when the
 * instance, router or guard is created), its resolved value, `DEFAULTS.myOption`, and its README row
 * (`npm run docs:options` rewrites the tables; test/readme.test.ts fails until it has). Then read it
 * where it is used: an Express adapter reads the resolved options directly; the core reads only
 * `ServerConfig` (lib/core/issuing/config.ts), so an option the core needs gets its field there too,
 * under the same name and unit, and the compiler checks that the resolution provides it. A default
 * that depends on another option or the environment goes in the family's resolver (`defaults` of
 * resolveTable), with `defaultText` saying so in the README.
 */

/** Used until an issuer is configured; a warning says so once. */
export const DEVELOPMENT_ISSUER = 'http://localhost:3000';

/**
 * The remote guard's JWKS refresh period (ms): also how long, by default, a scheduled rotation's next
 * key is published before it signs, so our own guards never meet an unknown kid.
 */
const JWKS_REFRESH_INTERVAL = 300_000;

// Entries several families share, each written once.
const clockTolerance = {
  check: nonNegativeNumber(),
  default: 5,
  type: '`number` (seconds)',
  description: 'clock skew tolerated when checking `exp`, `nbf` and `iat`',
};
const clock = {
  check: func<() => number>(),
  defaultText: '`Date.now`',
  type: '`() => number`',
  description: 'current time in epoch milliseconds, for every time the library measures (token times, secret grace periods, failure-limit windows and back-offs, cooldowns); inject a fake one in tests',
};
const checkLogger = logger();
const loggerOption = {
  // A pino logger is taken as it is and called its own way (see toLogger).
  check: ((value, name) => toLogger(checkLogger(value, name))) as Check<Logger>,
  defaultText: '`console`, prefixed `[express-client-credentials]`',
  type: '`{ warn(message), error(message, error?) }`',
  description: 'where warnings and internal errors go; never given a secret or a token; a pino logger is called the pino way',
};
const metrics = {
  check: nested<MetricsOptions, ResolvedMetricsOptions>(resolveMetricsOptions),
  defaultText: 'the global meter provider, no `client_id` labels',
  type: '`{ meterProvider?, clientIdLabel? }`',
  description: 'OpenTelemetry metrics (see [metrics](operations.md#metrics)): the provider (default: the global one of `@opentelemetry/api`) and whether client ids become labels',
};
const allowBodyToken = {
  check: boolean(),
  default: false,
  type: '`boolean`',
  description: 'also accept `access_token` in an `application/x-www-form-urlencoded` body (RFC 6750 §2.2)',
};
const acceptScp = {
  check: boolean(),
  default: false,
  type: '`boolean`',
  description: "accept a foreign issuer's `scp` array claim when the token has no `scope` string",
};
const realmOption = {
  check: realm(),
  default: 'oauth',
  type: '`string`',
  description: 'realm of `WWW-Authenticate` challenges (printable ASCII)',
};
const tokenCacheSize = {
  check: integer(0, 10_000_000),
  default: 10_000,
  type: '`number`',
  description: 'verified tokens remembered (each until its `exp`, emptied when the signing keys change; revocation and disabled clients are checked on every request); 0 turns the cache off',
};

/** `introspection: { ... }` of a remote guard: how it authenticates to the issuer's introspection endpoint (RFC 7662), and its cache. */
export const INTROSPECTION_OPTIONS = {
  clientId: { check: nonEmptyString(), required: true, type: '`string`', description: 'the resource server\'s client id at the issuer', defaultText: 'required' },
  clientSecret: { check: nonEmptyString(), required: true, type: '`string`', description: 'its client secret', defaultText: 'required' },
  cacheTtl: {
    check: nonNegativeNumber(),
    default: 10,
    defaultsKey: 'introspectionCacheTtl' as const,
    type: '`number` (seconds)',
    description: 'how long an introspection answer, active or not, is reused (never past the token\'s `exp`); refusals are kept apart from good answers',
  },
  cacheMax: {
    check: integer(1, 1_000_000),
    default: 10_000,
    defaultsKey: 'introspectionCacheMax' as const,
    type: '`number`',
    description: 'most introspection answers kept',
  },
} satisfies OptionTable;

/** `createOAuth()`, `tokenRouter()` and `defaultOAuth()`: one authorization server. */
export const INSTANCE_OPTIONS = {
  issuer: {
    check: servedIssuerUrl(),
    defaultText: "`OAUTH_ISSUER` for the default instance, else `'http://localhost:3000'` with a warning",
    type: '`string`',
    description: 'issuer identifier (`iss`, RFC 8414 §2): an `https` URL without query or fragment; `http` only for `localhost`, `127.0.0.1`, `[::1]`; its path may hold only `/` and `A-Z a-z 0-9 - . _ ~` (it prefixes Express routes)',
  },
  store: {
    check: withMethods<Store>('store must implement the Store interface'),
    optional: true,
    defaultText: 'none: `database` is opened',
    type: '`Store`',
    description: 'a storage backend implementing the async `Store` interface',
  },
  database: {
    check: databaseLocation(),
    default: './oauth.sqlite',
    defaultText: "`OAUTH_DB` for the default instance, else `'./oauth.sqlite'`",
    type: '`string`',
    description:
      'opened when no `store` is given: a SQLite file path, or a PostgreSQL URL `postgres://user@host:5432/db` (see [several instances](operations.md#several-instances))',
  },
  busyTimeout: {
    check: integer(0, 60_000),
    default: 100,
    type: '`number` (ms)',
    description:
      'how long a write waits for a database another process is writing, 0 to 60000; better-sqlite3 waits synchronously, so the server keeps it short and answers `503 temporarily_unavailable` with `Retry-After` past it',
  },
  audience: {
    check: nonEmptyString(),
    defaultText: 'the issuer',
    type: '`string`',
    description: '`aud` of issued tokens, and what guards accept by default',
  },
  accessTokenLifetime: { check: integer(1, 86_400), default: 3600, type: '`number` (seconds)', description: 'lifetime of access tokens, 1 to 86400' },
  signingAlgorithm: {
    check: oneOf<SigningAlgorithm>(SIGNING_ALGORITHMS),
    default: 'RS256' as SigningAlgorithm,
    type: "`'RS256' \\| 'ES256'`",
    description: 'algorithm of newly generated signing keys',
  },
  bcryptCost: {
    check: integer(4, 31),
    default: 10,
    type: '`number`',
    description:
      'bcrypt cost written into a new database, 4 to 31; the database keeps it and the server and the CLI both use the stored cost for new secrets and for the dummy hash that hides unknown client ids (see [bcrypt cost](security.md#bcrypt-cost))',
  },
  tokenPath: { check: urlPath(), default: '/oauth/token', type: '`string`', description: "path of the token endpoint, relative to the issuer's root (mount `tokenRouter()` at the host's root)" },
  realm: realmOption,
  clockTolerance,
  bodyLimit: { check: integer(64, 1024 * 1024), default: 8 * 1024, type: '`number` (bytes)', description: 'largest token request body, 64 to 1048576' },
  bodyTimeout: {
    check: integer(10, 600_000),
    default: 5000,
    type: '`number` (ms)',
    description:
      'how long the token, introspection, revocation and admin endpoints wait for a request body to arrive in full before answering `408` and closing the connection, 10 to 600000 (see [slow clients](operations.md#slow-clients))',
  },
  syncInterval: {
    check: integer(10, 3_600_000),
    default: 500,
    type: '`number` (ms)',
    description:
      'how often to look for changes made by other processes (the CLI, other instances), 10 to 3600000; on PostgreSQL changes are pushed (LISTEN/NOTIFY) and the store polls only as a fallback, every 5 s',
  },
  clock,
  logger: loggerOption,
  scopesSupported: {
    check: scopeList(),
    optional: true,
    defaultText: 'unset',
    type: '`string[]`',
    description: 'scopes advertised as `scopes_supported` in the RFC 8414 metadata',
  },
  introspectionScope: {
    check: scopeToken(),
    default: 'oauth:introspect',
    type: '`string`',
    description: 'scope a client needs to call the introspection endpoint (RFC 7662 §2.1)',
  },
  tokenFormat: {
    check: oneOf(['jwt', 'reference'] as const),
    default: 'jwt' as 'jwt' | 'reference',
    type: "`'jwt' \\| 'reference'`",
    description: "`'reference'` issues opaque reference tokens to every client; with `'jwt'` only clients whose own format says so get them",
  },
  keyRotationDays: {
    check: integer(1, 3650),
    optional: true,
    defaultText: '`OAUTH_KEY_ROTATION` for the default instance, else unset (off)',
    type: '`number`',
    description:
      'rotate the signing key every this many days, 1 to 3650, publishing the next key `keyPublishAhead` before it signs (see [key rotation](operations.md#key-rotation))',
  },
  keyPublishAhead: {
    check: integer(0, 7 * 86_400),
    default: JWKS_REFRESH_INTERVAL / 1000,
    type: '`number` (seconds)',
    description:
      "how long a scheduled rotation's next key is in the JWKS before it signs, 0 to 604800 and shorter than `keyRotationDays`: at least the longest time any resource server caches the JWKS (the default is the remote guard's `jwksRefreshInterval`; jose's `createRemoteJWKSet` caches 10 minutes). A key that stops signing also stays published this much longer than its tokens live; env `OAUTH_KEY_PUBLISH_AHEAD` for the default instance",
  },
  keySecret: {
    // The secrets become an encryptor here and are not kept; KeyEncryption throws TypeError for an
    // empty list or a short secret, without echoing it.
    check: ((value) =>
      new KeyEncryption(typeof value === 'string' ? [value] : Array.isArray(value) ? [...(value as string[])] : [])) as Check<
      string | readonly string[],
      KeyEncryption
    >,
    optional: true,
    defaultText: '`OAUTH_KEY_SECRET` (comma-separated) for the default instance, else unset (keys stored unencrypted)',
    type: '`string \\| string[]`',
    description:
      'encrypts the private signing keys in the database (AES-256-GCM, key derived with HKDF-SHA256); each secret at least 32 characters (`openssl rand -base64 32`); with a list, the first encrypts and every one decrypts (see [Keys at rest](security.md#keys-at-rest))',
  },
  headerLimit: { check: integer(1024, 1024 * 1024), default: 8 * 1024, type: '`number` (bytes)', description: "largest total size of a token request's headers (431 beyond it)" },
  requireTls: {
    check: boolean(),
    default: false,
    defaultText: '`false`, but `true` when `NODE_ENV=production`',
    type: '`boolean`',
    description: 'refuse token requests that did not arrive over TLS (`req.secure`, honouring `trust proxy`)',
  },
  addressFailureLimit: {
    check: integer(0, 1_000_000),
    default: 30,
    type: '`number`',
    description: 'failed client authentications one address may make per window before it is refused (429); 0 turns it off',
  },
  addressFailureWindow: { check: integer(1, 86_400), default: 600, type: '`number` (seconds)', description: 'window of `addressFailureLimit`' },
  clientFailureLimit: {
    check: integer(0, 1_000_000),
    default: 20,
    type: '`number`',
    description: 'failed authentications for one `client_id` per window before that id backs off; 0 turns it off',
  },
  clientFailureWindow: { check: integer(1, 86_400), default: 60, type: '`number` (seconds)', description: 'window of `clientFailureLimit`' },
  clientMaxBackoff: { check: integer(1, 86_400), default: 60, type: '`number` (seconds)', description: 'longest back-off of a `client_id` (1 s, doubling)' },
  maxConcurrentAuthentications: {
    check: integer(1, 1024),
    default: availableParallelism(),
    defaultText: '`os.availableParallelism()`',
    type: '`number`',
    description: 'bcrypt comparisons in flight at once',
  },
  maxQueuedAuthentications: {
    check: integer(0, 100_000),
    default: 256,
    type: '`number`',
    description:
      'authentications allowed to wait for a slot, served round robin over client addresses; when full, the newest waiting request of the address with the most in flight is refused (503 with `Retry-After`), or else the newcomer',
  },
  refusalDelay: {
    check: integer(0, 60_000),
    default: 1000,
    type: '`number` (ms)',
    description:
      'how long a refusal by a failure limit (429) is held before it is sent, never longer than its `Retry-After`, 0 to 60000; 0 sends it at once. A flood then waits on its own connections instead of spending the server (see [refused addresses](operations.md#refused-addresses))',
  },
  maxDelayedRefusals: {
    check: integer(0, 1_000_000),
    default: 1000,
    type: '`number`',
    description: 'refusals held by `refusalDelay` at once; beyond them a refusal is sent at once, so memory stays bounded',
  },
  limiterStore: {
    check: nested((value: LimiterStoreInput) => {
      const resolved = resolveTable(LIMITER_STORE_OPTIONS, value, 'limiterStore.');
      if ((resolved.redis === undefined) === (resolved.postgres === undefined)) {
        throw new TypeError('limiterStore needs exactly one of redis and postgres');
      }
      return resolved;
    }),
    optional: true as const,
    defaultText: 'in memory',
    type: '`{ redis, keyPrefix?, timeoutMs? }` or `{ postgres, tableName?, keyPrefix?, timeoutMs? }`',
    description:
      'count the failure limits in Redis (`redis`: an ioredis client you own) or in PostgreSQL (`postgres`: a node-postgres pool you own), shared by every instance; when the backend cannot answer, each instance counts in its own memory (see [shared failure limits](operations.md#shared-failure-limits))',
  },
  verifiedSecretCacheSize: {
    check: integer(0, 10_000_000),
    default: 10_000,
    type: '`number`',
    description:
      'bcrypt-verified secrets remembered (as keyed hashes, never the secret) so returning clients skip bcrypt, and client rows kept so they skip the store read while no change is pending (see [what keeps the hot paths fast](operations.md#what-keeps-the-hot-paths-fast)); 0 turns both off',
  },
  verifiedSecretMaxAge: {
    check: integer(1, 86_400),
    default: 3600,
    type: '`number` (seconds)',
    description: 'how long a remembered verification counts before bcrypt runs again, 1 to 86400',
  },
  metrics,
  ...POSSESSION_INSTANCE_OPTIONS,
} satisfies OptionTable;

/** `limiterStore`: where the failure limits are counted when several instances share them. */
export const LIMITER_STORE_OPTIONS = {
  redis: {
    check: withMethods<SharedLimitsRedis>('limiterStore.redis must be an ioredis client', 'multi', 'defineCommand'),
    optional: true as const,
    defaultText: 'this or `postgres`',
    type: '`Redis` (ioredis)',
    description: 'the client to count in; yours to configure (`enableOfflineQueue: false` is advised) and to close',
  },
  postgres: {
    check: withMethods<SharedLimitsPostgres>('limiterStore.postgres must be a node-postgres Pool', 'query', 'connect'),
    optional: true as const,
    defaultText: 'this or `redis`',
    type: '`Pool` (pg)',
    description: 'the pool to count in, in `tableName` (created when missing); yours to configure (a `connectionTimeoutMillis` is advised) and to close',
  },
  tableName: {
    check: matching(/^[a-z_][a-z0-9_]{0,62}$/, 'a plain lower-case identifier'),
    default: 'ecc_auth_limits',
    type: '`string`',
    description: 'with `postgres`: the UNLOGGED table of the counters',
  },
  keyPrefix: { check: nonEmptyString(), default: 'ecc:auth', type: '`string`', description: 'prefix of every key written; one per deployment sharing a Redis or a table' },
  timeoutMs: {
    check: integer(1, 60_000),
    default: 250,
    type: '`number` (ms)',
    description: 'longest a counting step may take before the instance counts in its own memory instead',
  },
} satisfies OptionTable;

/** A remote guard's `introspection`, a nested option resolved by its own table above. */
const introspection = {
  check: nested((value: IntrospectionInput) => {
    // One message for both, as before: the pair is what authenticates the resource server.
    if (typeof value.clientId !== 'string' || value.clientId === '' || typeof value.clientSecret !== 'string' || value.clientSecret === '') {
      throw new TypeError('introspection needs clientId and clientSecret');
    }
    return resolveTable(INTROSPECTION_OPTIONS, value, 'introspection.');
  }),
  type: '`{ clientId, clientSecret, cacheTtl?, cacheMax? }`',
  optional: true as const,
  defaultText: 'off',
  description: 'check every token at the issuer\'s introspection endpoint (RFC 7662) instead of by signature only; see [`introspection`](#introspection-options)',
};

/** `createResourceServer()` (and a `requireScope()` that names an `issuer`): guards for another process's tokens. */
export const RESOURCE_SERVER_OPTIONS = {
  issuer: {
    check: issuerUrl(),
    required: true,
    defaultText: 'required',
    type: '`string`',
    description: "the authorization server's issuer URL (https; http only for localhost); its metadata is read from `<issuer>/.well-known/oauth-authorization-server`",
  },
  audience: {
    check: audienceList(),
    required: true,
    defaultText: 'required',
    type: '`string \\| string[]`',
    description: "this service's audience (RFC 8707 resource): the token's `aud` must contain one",
  },
  introspection,
  fetchTimeout: { check: integer(1, 600_000), default: 5000, type: '`number` (ms)', description: 'before a metadata, JWKS or introspection request gives up' },
  jwksCooldown: {
    check: integer(0, 3_600_000),
    default: 2000,
    type: '`number` (ms)',
    description: 'between two refetches for unknown kids (a request with a new kid waits at most this long); also `Retry-After` before warm-up',
  },
  jwksRefreshInterval: {
    check: integer(1000, 86_400_000),
    default: JWKS_REFRESH_INTERVAL,
    type: '`number` (ms)',
    description: 'between background JWKS refreshes, so retired keys drop out',
  },
  tokenCacheSize: {
    ...tokenCacheSize,
    description: 'JWKS guards: verified tokens each guard remembers (each until its `exp`, while the key that verified it is still published); 0 turns the cache off',
  },
  allowBodyToken,
  acceptScp,
  realm: { ...realmOption, description: "realm of the guards' `WWW-Authenticate` challenges (printable ASCII)" },
  clockTolerance,
  clock,
  logger: loggerOption,
  metrics: { ...metrics, description: 'OpenTelemetry metrics of the guards (see [metrics](operations.md#metrics))' },
  ...GUARD_DPOP_OPTIONS,
  ...RESOURCE_SERVER_DPOP_OPTIONS,
} satisfies OptionTable;

/** Options of one `requireScope()` guard of an instance (a guard naming another `issuer` takes the resource server options). */
export const GUARD_OPTIONS = {
  audience: {
    check: audienceList(),
    defaultText: "the instance's `audience`",
    type: '`string \\| string[]`',
    description: "the token's `aud` must contain one of these",
  },
  allowBodyToken,
  acceptScp,
  realm: { check: realm(), defaultText: "the instance's `realm`", type: '`string`', description: "realm of this guard's `WWW-Authenticate` challenges" },
  tokenCacheSize,
  issuer: {
    check: issuerUrl(),
    optional: true,
    defaultText: "unset: the instance's own tokens",
    type: '`string`',
    description:
      "verify the tokens of an authorization server in another process (see [The remote guard](resource-servers.md#the-remote-guard)); `audience` is then required and the [resource server options](#createresourceserveroptions) apply",
  },
  introspection,
  ...GUARD_DPOP_OPTIONS,
} satisfies OptionTable;

const guardObject: Check<GuardInput> = (value) => {
  if (typeof value !== 'object' || value === null) throw new TypeError('adminRouter guard options must be an object');
  return value as GuardInput;
};

/** `adminRouter()`. */
export const ADMIN_OPTIONS = {
  scope: {
    check: singleScope('adminRouter scope'),
    default: 'oauth:admin',
    defaultsKey: 'adminScope' as const,
    type: '`string`',
    description: "the scope a caller's access token must carry",
  },
  guard: {
    // Checked as an object here; its members when the guard is created, as any guard's.
    check: guardObject,
    defaultText: '`{}`',
    type: '`GuardOptions`',
    description: 'options of the guard in front of the admin API (`audience`, `realm`, ...)',
  },
} satisfies OptionTable;

// ---- Types derived from the tables: adding an option above adds it to these. ----

/** Input of the `introspection` option. */
export type IntrospectionInput = OptionsOf<typeof INTROSPECTION_OPTIONS>;
/** Input of the `limiterStore` option. */
export type LimiterStoreInput = OptionsOf<typeof LIMITER_STORE_OPTIONS>;
/** Resolved `introspection` option. */
export type ResolvedIntrospection = ResolvedOf<typeof INTROSPECTION_OPTIONS>;
/** Input of one guard. */
export type GuardInput = OptionsOf<typeof GUARD_OPTIONS>;

/** Every static default, by name (as the README's options tables state them). */
export type Defaults = DefaultsOf<typeof INSTANCE_OPTIONS> &
  DefaultsOf<typeof GUARD_OPTIONS> &
  DefaultsOf<typeof RESOURCE_SERVER_OPTIONS> &
  DefaultsOf<typeof INTROSPECTION_OPTIONS> &
  DefaultsOf<typeof ADMIN_OPTIONS> &
  DefaultsOf<typeof HEALTH_OPTIONS> &
  DefaultsOf<typeof CLIENT_ASSERTION_OPTIONS> &
  DefaultsOf<typeof DPOP_OPTIONS>;

/** Every table, by family, in the order the README documents them (the token client's defaults are its own, `CLIENT_DEFAULTS`). */
export const OPTION_FAMILIES = {
  instance: INSTANCE_OPTIONS,
  guard: GUARD_OPTIONS,
  admin: ADMIN_OPTIONS,
  resourceServer: RESOURCE_SERVER_OPTIONS,
  introspection: INTROSPECTION_OPTIONS,
  clientAssertion: CLIENT_ASSERTION_OPTIONS,
  dpop: DPOP_OPTIONS,
  health: HEALTH_OPTIONS,
  resourceMetadata: RESOURCE_METADATA_OPTIONS,
  tokenClient: TOKEN_CLIENT_OPTIONS,
} as const;

/**
 * Every default, in one place, collected from the option tables; the README's options tables are
 * checked against the same tables.
 *
 * @example
 * createOAuth({ accessTokenLifetime: DEFAULTS.accessTokenLifetime * 2 });
 */
export const DEFAULTS: Defaults = collectDefaults<Defaults>([
  INSTANCE_OPTIONS,
  GUARD_OPTIONS,
  ADMIN_OPTIONS,
  RESOURCE_SERVER_OPTIONS,
  INTROSPECTION_OPTIONS,
  HEALTH_OPTIONS,
  CLIENT_ASSERTION_OPTIONS,
  DPOP_OPTIONS,
]);
