// Plain-text output of the CLI: aligned key/value blocks and tables, ISO times, and durations such as 24h.
import { UsageError } from './command';

/** Epoch ms as an ISO 8601 UTC time; `null` stays `null`. */
export function isoTime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** `key  value` lines with the values aligned. */
export function keyValues(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...rows.map(([key]) => key.length));
  return rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`.trimEnd()).join('\n');
}

/** A table with a header row and columns padded to their widest cell. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Parses a duration such as `0`, `90s`, `30m`, `24h`, `7d` (a bare number is seconds) into seconds. */
export function parseDuration(value: string, option: string): number {
  const match = /^(\d{1,9})([smhd]?)$/.exec(value);
  if (!match) throw new UsageError(`${option} must be a duration such as 0, 90s, 30m, 24h or 7d`);
  return Number(match[1]) * (UNIT_SECONDS[match[2] || 's'] as number);
}
