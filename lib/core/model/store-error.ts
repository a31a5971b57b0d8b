// StoreError: a storage failure in domain terms, thrown by every store and mapped to OAuth errors in one place (./errors).

/**
 * `insecure`: a database file other users can reach that could not be made owner-only.
 * `not_found`: a change names a record that does not exist (a group in a client's groups); nothing changed.
 * `stale`: a change made on condition of a version (`expectedVersion`) found another; nothing changed.
 */
export type StoreErrorCode = 'conflict' | 'busy' | 'readonly' | 'unavailable' | 'schema' | 'insecure' | 'not_found' | 'stale';

/** A storage failure in domain terms; the driver's own error is kept as `cause`. */
export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}
