// The one place node-postgres's errors (SQLSTATE codes, socket errors, its own timeouts) become StoreErrors.
import { StoreError } from '../types';

/** SQLSTATE classes and codes that mean "the database cannot serve this now; try again". */
const UNAVAILABLE_SQLSTATES = new Set([
  '57014', // query_canceled: statement_timeout fired
  '57P01', // admin_shutdown: pg_terminate_backend, or the server stopping
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: the server is starting
  '53300', // too_many_connections
  '53000', // insufficient_resources
  '58000', // system_error
]);
const BUSY_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available: lock_timeout fired
]);
/** Node socket errors of a lost or refused connection. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/** node-postgres reports its own timeouts and a dead connection as plain Errors with these messages. */
const DRIVER_MESSAGES = [
  /timeout exceeded when trying to connect/i,
  /^Connection terminated/i,
  /^Query read timeout/i,
  /not queryable/i,
  /Cannot use a pool after calling end/i,
  /Client was closed and is not queryable/i,
];

/**
 * Translates what node-postgres threw into a {@link StoreError} where it has a domain meaning
 * (`conflict`, `busy`, `readonly`, `unavailable`); anything else (a bug, a bad statement) is
 * returned as it is and ends as a bare `server_error`.
 */
export function translatePgError(err: unknown): unknown {
  if (err instanceof StoreError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (code === '23505') return new StoreError('conflict', 'that record exists already', { cause: err });
    if (BUSY_SQLSTATES.has(code)) return new StoreError('busy', 'the database is busy; try again', { cause: err });
    if (code === '25006') return new StoreError('readonly', 'the database is read-only', { cause: err });
    // Class 08: connection exceptions.
    if (code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code) || SOCKET_CODES.has(code)) {
      return new StoreError('unavailable', 'the database is unavailable', { cause: err });
    }
    return err;
  }
  const message = err instanceof Error ? err.message : '';
  if (DRIVER_MESSAGES.some((pattern) => pattern.test(message))) {
    return new StoreError('unavailable', 'the database is unavailable', { cause: err });
  }
  return err;
}
