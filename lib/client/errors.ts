// The token client's one error type: the RFC 6749 §5.2 code, the HTTP status and the server's description, never a secret.

/**
 * A token could not be obtained. `error` is the RFC 6749 §5.2 code the token endpoint answered
 * (`invalid_client`, `invalid_scope`, `invalid_target`, ...), or, when it sent none:
 * `temporarily_unavailable` (network failure, timeout, 5xx, 429, or the client is backing off after
 * failures) and `server_error` (an answer that is not a valid token response).
 *
 * @example
 * try { await client.getToken(); } catch (err) {
 *   if (err instanceof TokenClientError && err.error === 'invalid_client') alert('check the credentials');
 * }
 */
export class TokenClientError extends Error {
  /** RFC 6749 §5.2 error code. */
  readonly error: string;
  /** HTTP status of the token endpoint's answer; `undefined` when there was none (network, backoff). */
  readonly status: number | undefined;
  /** The server's `error_description`, or ours. */
  readonly description: string | undefined;
  /** Seconds until the client asks the token endpoint again (`Retry-After`, or its backoff). */
  readonly retryAfter: number | undefined;

  constructor(
    error: string,
    options: { status?: number | undefined; description?: string | undefined; retryAfter?: number | undefined; cause?: unknown } = {},
  ) {
    super(options.description ? `${error}: ${options.description}` : error, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TokenClientError';
    this.error = error;
    this.status = options.status;
    this.description = options.description;
    this.retryAfter = options.retryAfter;
  }
}
