// StoreError: a storage failure in domain terms, thrown by every store and mapped to OAuth errors in one place (./errors).

/** `insecure`: a database file other users can reach that could not be made owner-only. */
export type StoreErrorCode = 'conflict' | 'busy' | 'readonly' | 'unavailable' | 'schema' | 'insecure';

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
