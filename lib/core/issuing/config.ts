// What the framework-free authorization server reads of its configuration: plain resolved values, names and units as in the public options.
import type { Logger } from '../model/logger';
import type { KeyEncryption } from '../tokens/key-encryption';
import type { SigningAlgorithm } from '../tokens/keys';
import type { SharedLimitsBackend } from '../client-auth/shared-failure-limits';

/**
 * The resolved settings an {@link AuthorizationServer} and its adapters run on. lib/options resolves
 * `OAuthOptions` into this shape (the compiler checks it does); the core never imports lib/options.
 * Every name and unit is the public option's: `clockTolerance` in seconds, `clock` in epoch ms.
 */
export interface ServerConfig {
  issuer: string;
  /** True when no issuer was configured and the development default is in use (a warning says so once). */
  issuerIsDefault: boolean;
  audience: string;
  /** Seconds. */
  accessTokenLifetime: number;
  signingAlgorithm: SigningAlgorithm;
  /** bcrypt cost for a database that has none stored yet (see Store.bcryptCost). */
  bcryptCost: number;
  /** Whether `bcryptCost` was given explicitly (a conflict with the database's cost is then reported). */
  bcryptCostExplicit: boolean;
  tokenPath: string;
  realm: string;
  /** Seconds. */
  clockTolerance: number;
  /** Bytes. */
  bodyLimit: number;
  /** Milliseconds a request body may take to arrive. */
  bodyTimeout: number;
  /** Milliseconds. */
  syncInterval: number;
  /** Current time, epoch milliseconds. */
  clock: () => number;
  logger: Logger;
  verifiedSecretCacheSize: number;
  /** Seconds. */
  verifiedSecretMaxAge: number;
  scopesSupported: readonly string[] | undefined;
  introspectionScope: string;
  tokenFormat: 'jwt' | 'reference';
  /** Days; undefined: no scheduled rotation. */
  keyRotationDays: number | undefined;
  /** Seconds a scheduled rotation's next key is published before it signs (and a retiring key kept past its tokens). */
  keyPublishAhead: number;
  /** Built from the `keySecret` option (the secrets themselves are not kept); undefined: keys stored clear. */
  keyEncryption: KeyEncryption | undefined;
  /** Bytes. */
  headerLimit: number;
  requireTls: boolean;
  addressFailureLimit: number;
  /** Seconds. */
  addressFailureWindow: number;
  clientFailureLimit: number;
  /** Seconds. */
  clientFailureWindow: number;
  /** Seconds. */
  clientMaxBackoff: number;
  maxConcurrentAuthentications: number;
  maxQueuedAuthentications: number;
  /** Milliseconds a refusal by a failure limit is held before it is sent; 0: at once. */
  refusalDelay: number;
  maxDelayedRefusals: number;
  /** Where the failure limits are counted when instances share them; undefined: in this process's memory. */
  limiterStore: SharedLimitsBackend | undefined;
  /** `private_key_jwt` (RFC 7523 §2.2). */
  clientAssertion: ClientAssertionConfig;
  /** DPoP (RFC 9449). */
  dpop: DpopConfig;
}

/** `private_key_jwt` settings; names and units as in the `clientAssertion` option. */
export interface ClientAssertionConfig {
  /** Seconds. */
  maxLifetime: number;
  /** Milliseconds. */
  jwksCooldown: number;
  /** Milliseconds. */
  jwksCacheMaxAge: number;
  /** Milliseconds. */
  jwksTimeout: number;
  keySetCacheSize: number;
}

/** DPoP settings; names and units as in the `dpop` option. */
export interface DpopConfig {
  /** Undefined: no nonces. */
  nonceSecrets: readonly string[] | undefined;
  /** Seconds. */
  nonceStep: number;
  /** Seconds. */
  proofMaxAge: number;
  replayCacheSize: number;
}
