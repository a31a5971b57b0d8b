// The abuse limits as environment variables, for the example app and deployments: parsed from an env object the caller passes in.
import type { OAuthOptions } from './options';

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
 * left to {@link DEFAULTS}. Takes the environment as an argument, so only the caller (the example app,
 * a deployment's entry point) touches `process.env`. Throws `TypeError` on a value that is not a
 * non-negative integer; `createOAuth()` checks the ranges.
 *
 * @example
 * const oauth = createOAuth({ issuer, ...limitOptionsFromEnv(process.env) });
 */
export function limitOptionsFromEnv(env: Readonly<Record<string, string | undefined>>): Partial<Record<LimitOption, number>> {
  const options: Partial<Record<LimitOption, number>> = {};
  for (const [name, option] of Object.entries(LIMIT_ENV) as [keyof typeof LIMIT_ENV, LimitOption][]) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    if (!/^\d+$/.test(raw.trim())) throw new TypeError(`${name} must be a non-negative integer, not ${JSON.stringify(raw)}`);
    options[option] = Number(raw.trim());
  }
  return options;
}
