// Logger compatibility: a pino logger (obj, msg) works as the `logger` option unchanged, and audit events can go to it as structured lines.
import type { AuditEvent } from '../model/events';
import type { Logger } from '../model/logger';

/** A logger in pino's calling convention: `(obj, msg)` or `(msg)` (bunyan shares it). */
export interface StructuredLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
}

/** Levels {@link pinoAuditLogger} may write at. */
export type AuditLogLevel = 'info' | 'warn' | 'debug' | 'trace';

/**
 * pino marks its loggers (children too) with this registered symbol. A plain `(message, error)`
 * logger would lose the error under pino's convention, and a pino logger would drop an error passed
 * second (pino reads extra arguments only as format values), so the convention is told by the mark.
 */
const PINO_MARK = Symbol.for('pino.serializers');

/** Whether `logger` takes `(obj, msg)`: a pino logger. */
export function isPinoLogger(logger: object): boolean {
  return PINO_MARK in logger;
}

/** An error as a log may show it: its type, message and code, never its stack (the project's rule: no stack trace in a log). */
export function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { type: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { type: typeof error };
}

/**
 * The library's logger over what the option was given: a pino logger is called the pino way
 * (`error({ error: { type, message } }, message)`), anything else as it is.
 */
export function toLogger(logger: Logger): Logger {
  if (!isPinoLogger(logger)) return logger;
  const pino = logger as unknown as StructuredLogger & { warn(msg: string): void; error(msg: string): void };
  return {
    warn: (message) => pino.warn(message),
    // Not under `err`: pino's serializer for that key would put back the stack (of an Error) or rename the type (of a plain object).
    error: (message, error) => (error === undefined ? pino.error(message) : pino.error({ error: describeError(error) }, message)),
  };
}

/**
 * An `'audit'` listener that writes each event to a pino (or any `(obj, msg)`) logger, under the
 * `audit` key so the event's `time` and `type` do not collide with the logger's own fields. Events
 * never carry secrets or tokens.
 *
 * @example
 * const logger = pino();
 * const oauth = createOAuth({ logger });
 * oauth.events.on('audit', pinoAuditLogger(logger));
 * // {"level":30,"time":...,"audit":{"clientId":"3f2a...","scopes":["read"],...,"type":"token.issued"},"msg":"audit token.issued"}
 */
export function pinoAuditLogger(
  logger: Pick<StructuredLogger, 'info'> & Partial<Record<AuditLogLevel, (obj: object, msg?: string) => void>>,
  options: { level?: AuditLogLevel } = {},
): (event: AuditEvent) => void {
  const level = options.level ?? 'info';
  const write = logger[level];
  if (typeof write !== 'function') throw new TypeError(`the logger has no ${level}() method`);
  return (event) => {
    write.call(logger, { audit: event }, `audit ${event.type}`);
  };
}
