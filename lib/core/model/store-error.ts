// StoreError: a storage failure in domain terms, thrown by every store and mapped to OAuth errors in one place (./errors).

export type StoreErrorCode = 'conflict' | 'busy' | 'readonly' | 'unavailable' | 'schema';

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
