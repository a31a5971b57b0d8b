// The `express-client-credentials/audit` subpath: jsonLinesAuditLogger() writes every audit event as one JSON line to a stream, for log shippers; and the event types.
import type { AuditEvent } from './core/model/events';

export { AuditEmitter } from './core/model/events';
export type { AuditEvents, AuditEvent, AuditEventName } from './core/model/events';
export { pinoAuditLogger } from './core/observability/logger';

/** Anything with a `write(string)`: `process.stdout`, a file stream, a test buffer. */
export interface LineSink {
  write(chunk: string): unknown;
}

/**
 * An `'audit'` listener that writes each event as one JSON line (`type` and `time` included). Events
 * never carry secrets or tokens, so the lines are safe to ship to a log store.
 *
 * @example
 * oauth.events.on('audit', jsonLinesAuditLogger(process.stdout));
 * // {"clientId":"3f2a...","scopes":["read"],"audience":"https://api.example.com","jti":"...","expiresAt":1767229200000,"type":"token.issued","time":1767225600000}
 */
export function jsonLinesAuditLogger(sink: LineSink): (event: AuditEvent) => void {
  return (event) => {
    sink.write(`${JSON.stringify(event)}\n`);
  };
}
