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
  OAUTH_REFUSAL_DELAY: 'refusalDelay',
  OAUTH_MAX_DELAYED_REFUSALS: 'maxDelayedRefusals',
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

/** Seconds per duration unit of {@link keyRotationOptionsFromEnv}. */
const DURATION_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90`, `90s`, `10m`, `24h`, `30d` → seconds; undefined for unset or empty. */
function envDuration(env: Environment, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  const match = /^(\d{1,9})([smhd]?)$/.exec(raw);
  if (!match) throw new TypeError(`${name} must be a duration such as 600, 10m, 24h or 30d, not ${JSON.stringify(env[name])}`);
  return Number(match[1]) * (DURATION_SECONDS[match[2] || 's'] as number);
}

/**
 * Reads scheduled signing key rotation from the environment: `OAUTH_KEY_ROTATION` (the period, whole
 * days: `30d`) → `keyRotationDays`, and `OAUTH_KEY_PUBLISH_AHEAD` (`10m`) → `keyPublishAhead` (seconds).
 * Unset or empty variables are left out. Throws `TypeError` on a value that is not such a duration;
 * `createOAuth()` checks the ranges.
 *
 * @example
 * // OAUTH_KEY_ROTATION=30d OAUTH_KEY_PUBLISH_AHEAD=10m
 * const oauth = createOAuth({ issuer, ...keyRotationOptionsFromEnv(process.env) });
 */
export function keyRotationOptionsFromEnv(env: Environment): Pick<OAuthOptions, 'keyRotationDays' | 'keyPublishAhead'> {
  const options: Pick<OAuthOptions, 'keyRotationDays' | 'keyPublishAhead'> = {};
  const period = envDuration(env, 'OAUTH_KEY_ROTATION');
  if (period !== undefined) {
    if (period % 86_400 !== 0) throw new TypeError(`OAUTH_KEY_ROTATION must be whole days such as 30d, not ${JSON.stringify(env.OAUTH_KEY_ROTATION)}`);
    options.keyRotationDays = period / 86_400;
  }
  const ahead = envDuration(env, 'OAUTH_KEY_PUBLISH_AHEAD');
  if (ahead !== undefined) options.keyPublishAhead = ahead;
  return options;
}

/** What resolution takes from the environment whatever the instance (NODE_ENV; see `requireTls`). */
export function optionEnvironment(env: Environment = processEnvironment()): OptionEnvironment {
  return { nodeEnv: env.NODE_ENV };
}

/**
 * The options of the zero-config default instance: `OAUTH_ISSUER`, `OAUTH_DB`, `OAUTH_KEY_SECRET`
 * (several secrets comma-separated), `OAUTH_KEY_ROTATION` and `OAUTH_KEY_PUBLISH_AHEAD` (see
 * {@link keyRotationOptionsFromEnv}); empty variables are unset. Explicit options win over these.
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
  return { ...options, ...keyRotationOptionsFromEnv(env) };
}
