// When the token client may ask again after failures: bounded exponential backoff, or the server's Retry-After (RFC 9110 §10.2.3) on 429/503.

/**
 * Milliseconds to wait after `failures` consecutive failures (1 = the first): `initialMs`, doubling,
 * never more than `maxMs`.
 */
export function backoffDelay(failures: number, initialMs: number, maxMs: number): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  return Math.min(maxMs, initialMs * 2 ** exponent);
}

/**
 * A `Retry-After` value in milliseconds from `now`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * `undefined` when absent or unreadable; never negative.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
