// The one module that reads process.env: the options the default instance, the CLI and the example app take from the environment.
import { parseKeySecrets } from './core/tokens/key-encryption';
import type { OAuthOptions, OptionEnvironment } from './options';

export { parseKeySecrets };

/** An environment to read: `process.env` or a test's object. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** The process environment; every other module takes an {@link Environment} as an argument. */
export function processEnvironment(): Environment {
  return process.env;
}

/** Environment variable → option, for {@link limitOptionsFromEnv}. */
export const LIMIT_ENV = {
  OAUTH_ADDRESS_FAILURE_LIMIT: 'addressFailureLimit',
  OAUTH_ADDRESS_FAILURE_WINDOW: 'addressFailureWindow',
  OAUTH_CLIENT_FAILURE_LIMIT: 'clientFailureLimit',
  OAUTH_CLIENT_FAILURE_WINDOW: 'clientFailureWindow',
  OAUTH_CLIENT_MAX_BACKOFF: 'clientMaxBackoff',
  OAUTH_MAX_CONCURRENT_AUTHENTICATIONS: 'maxConcurrentAuthentications',
  OAUTH_MAX_QUEUED_AUTHENTICATIONS: 'maxQueuedAuthentications',
} as const satisfies Record<string, keyof OAuthOptions>;

type LimitOption = (typeof LIMIT_ENV)[keyof typeof LIMIT_ENV];

/**
 * Reads the abuse limits from environment variables (see {@link LIMIT_ENV}); unset or empty ones are
 * left to `DEFAULTS`. Throws `TypeError` on a value that is not a non-negative integer;
 * `createOAuth()` checks the ranges.
 *
 * @example
 * const oauth = createOAuth({ issuer, ...limitOptionsFromEnv(process.env) });
 */
export function limitOptionsFromEnv(env: Environment): Partial<Record<LimitOption, number>> {
  const options: Partial<Record<LimitOption, number>> = {};
  for (const [name, option] of Object.entries(LIMIT_ENV) as [keyof typeof LIMIT_ENV, LimitOption][]) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    if (!/^\d+$/.test(raw.trim())) throw new TypeError(`${name} must be a non-negative integer, not ${JSON.stringify(raw)}`);
    options[option] = Number(raw.trim());
  }
  return options;
}

/** What resolution takes from the environment whatever the instance (NODE_ENV; see `requireTls`). */
export function optionEnvironment(env: Environment = processEnvironment()): OptionEnvironment {
  return { nodeEnv: env.NODE_ENV };
}

/**
 * The options of the zero-config default instance: `OAUTH_ISSUER`, `OAUTH_DB` and `OAUTH_KEY_SECRET`
 * (several secrets comma-separated; empty variables are unset). Explicit options win over these.
 *
 * @example
 * const oauth = createOAuth({ ...defaultInstanceOptionsFromEnv(process.env), audience: 'api' });
 */
export function defaultInstanceOptionsFromEnv(env: Environment = processEnvironment()): OAuthOptions {
  const options: OAuthOptions = {};
  if (env.OAUTH_DB) options.database = env.OAUTH_DB;
  if (env.OAUTH_ISSUER) options.issuer = env.OAUTH_ISSUER;
  // Several secrets comma-separated: the first encrypts the private signing keys, all decrypt.
  if (env.OAUTH_KEY_SECRET) options.keySecret = parseKeySecrets(env.OAUTH_KEY_SECRET);
  return options;
}
