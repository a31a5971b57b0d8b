// Typed OAuth errors: one class per RFC 6749 §5.2 / RFC 6750 §3.1 / RFC 8707 / RFC 7009 code, each carrying its HTTP status and headers.
import { StoreError } from './store-error';

/** Every error code this library can put in an `error` field. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'unsupported_token_type'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce';

export interface OAuthErrorOptions {
  /** HTTP status; each class has the RFC's default. */
  status?: number;
  /** Extra response headers (`WWW-Authenticate`, `Retry-After`, `Allow`). */
  headers?: Record<string, string>;
  /** The underlying error, kept for logs; never rendered. */
  cause?: unknown;
}

/**
 * RFC 6749 §5.2: `error_description` MUST NOT include characters outside %x20-21 / %x23-5B / %x5D-7E.
 * A section sign in a message becomes the word, `"` becomes `'`, anything else outside the set goes.
 */
function errorDescription(message: string): string {
  return message
    .replace(/§\s*/g, 'section ')
    .replace(/"/g, "'")
    .replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '');
}

/**
 * Base of every error this library raises on purpose. `status`, `headers` and `expose` follow the
 * conventions of Express's error handler (and http-errors), so an app's own error handler can render
 * it; {@link OAuthError.toJSON} gives the RFC 6749 §5.2 body `{ error, error_description }`.
 *
 * The stack is reduced to its first line: these are expected outcomes of bad requests, and Express's
 * default handler prints `err.stack` in development, which must never show file paths to a client.
 */
export class OAuthError extends Error {
  /** The RFC error code; `null` only for {@link BearerTokenMissingError} (RFC 6750 §3.1: no code when no credentials were sent). */
  readonly error: OAuthErrorCode | null;
  readonly status: number;
  readonly headers: Record<string, string>;
  /** Whether `message` may be shown to the client (false only for {@link ServerError}). */
  readonly expose: boolean = true;

  constructor(error: OAuthErrorCode | null, description: string, status: number, options: OAuthErrorOptions = {}) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.error = error;
    this.status = options.status ?? status;
    this.headers = { ...(options.headers ?? {}) };
    this.stack = `${this.name}: ${description}`;
  }

  /** Alias read by some error handlers (http-errors, finalhandler). */
  get statusCode(): number {
    return this.status;
  }

  /** The RFC 6749 §5.2 / RFC 6750 §3 JSON body. */
  toJSON(): { error?: OAuthErrorCode; error_description?: string } {
    const description = errorDescription(this.message);
    return {
      ...(this.error === null ? {} : { error: this.error }),
      ...(description ? { error_description: description } : {}),
    };
  }

  /**
   * What `console.error(err)` prints, and Express 5's default handler calls it on every error. A
   * rejected request is an expected outcome: one line, never the `cause`'s stack trace (Node's default
   * inspection prints it). Only a {@link ServerError}, a real failure, shows its cause to the operator.
   */
  [Symbol.for('nodejs.util.inspect.custom')](
    _depth: number,
    options: object,
    inspect: (value: unknown, options: object) => string,
  ): string {
    const line = `${this.name}: ${this.message} (${this.status}${this.error === null ? '' : ` ${this.error}`})`;
    return this.expose || this.cause === undefined ? line : `${line}\n[cause]: ${inspect(this.cause, options)}`;
  }
}

/** RFC 6749 §5.2: a missing, repeated or malformed parameter, or an unacceptable request shape. 400. */
export class InvalidRequestError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('invalid_request', description, 400, options);
  }
}

/** RFC 6749 §5.2: client authentication failed. 401 (with a `WWW-Authenticate` challenge when Basic was tried). */
export class InvalidClientError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('invalid_client', description, 401, options);
  }
}

/** RFC 6749 §5.2: the authenticated client may not use this grant type. 400. */
export class UnauthorizedClientError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('unauthorized_client', description, 400, options);
  }
}

/** RFC 6749 §5.2: the grant type is not supported by this server. 400. */
export class UnsupportedGrantTypeError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('unsupported_grant_type', description, 400, options);
  }
}

/** RFC 6749 §5.2: the requested scope is invalid, unknown, malformed or beyond what the client may have. 400. */
export class InvalidScopeError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('invalid_scope', description, 400, options);
  }
}

/** RFC 8707 §2: the requested resource (audience) is not one the client may get tokens for. 400. */
export class InvalidTargetError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('invalid_target', description, 400, options);
  }
}

/** RFC 6750 §3.1: the access token is expired, revoked, malformed or invalid. 401. */
export class InvalidTokenError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('invalid_token', description, 401, options);
  }
}

/**
 * RFC 6750 §3.1: the request carried no bearer token at all. 401 with a bare challenge and no error
 * code; the body only describes what is missing.
 */
export class BearerTokenMissingError extends OAuthError {
  constructor(description = 'a bearer access token is required', options?: OAuthErrorOptions) {
    super(null, description, 401, options);
  }
}

/** RFC 6750 §3.1: the token is valid but lacks a scope the resource needs. 403. */
export class InsufficientScopeError extends OAuthError {
  /** The scopes the resource requires, for the `scope` attribute of the challenge. */
  readonly requiredScopes: readonly string[];

  constructor(description: string, requiredScopes: readonly string[], options?: OAuthErrorOptions) {
    super('insufficient_scope', description, 403, options);
    this.requiredScopes = [...requiredScopes];
  }
}

/** RFC 7009 §2.2.1: the server does not support revoking this token type. 400. */
export class UnsupportedTokenTypeError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('unsupported_token_type', description, 400, options);
  }
}

/**
 * RFC 9449 §5 / §7.1: the DPoP proof is missing where required, malformed, or fails a check. 400 at the
 * token endpoint; a guard answers 401 with a `DPoP` challenge (pass `status`).
 */
export class InvalidDpopProofError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('invalid_dpop_proof', description, 400, options);
  }
}

/**
 * RFC 9449 §8 / §9: the server wants a proof carrying its nonce; the fresh nonce goes in the `DPoP-Nonce`
 * header. 400 at the token endpoint, 401 with a `DPoP` challenge at a guard.
 */
export class UseDpopNonceError extends OAuthError {
  constructor(description: string, nonce: string, options?: OAuthErrorOptions) {
    super('use_dpop_nonce', description, 400, { ...options, headers: { ...(options?.headers ?? {}), 'DPoP-Nonce': nonce } });
  }
}

/** RFC 6749 §5.2 (as an HTTP 503): the server is temporarily unable to handle the request. */
export class TemporarilyUnavailableError extends OAuthError {
  constructor(description: string, retryAfterSeconds: number, options?: OAuthErrorOptions) {
    super('temporarily_unavailable', description, 503, {
      ...options,
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))), ...(options?.headers ?? {}) },
    });
  }
}

/**
 * Client authentication refused before any secret was compared, because the address or the
 * client id failed too often (see `addressFailureLimit` / `clientFailureLimit`). 429 with
 * `Retry-After` (RFC 6585 §4) and the RFC 6749 §5.2 code `invalid_client`: a client library
 * treats it as an authentication failure, and the status tells it to wait instead of retrying.
 */
export class TooManyAttemptsError extends OAuthError {
  /** Whole seconds the caller is told to wait (`Retry-After`). */
  readonly retryAfterSeconds: number;

  constructor(description: string, retryAfterSeconds: number, options?: OAuthErrorOptions) {
    // A flood makes thousands of these a second and OAuthError replaces the stack with its name and
    // description anyway: capturing one first was about a tenth of a refusal's cost (issue 16.4).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super('invalid_client', description, 429, {
        ...options,
        headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))), ...(options?.headers ?? {}) },
      });
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

/**
 * An unexpected failure (database gone, a bug). Rendered as a bare `{ "error": "server_error" }`:
 * its message and cause are for logs only.
 */
export class ServerError extends OAuthError {
  override readonly expose = false;

  constructor(cause?: unknown) {
    super('server_error', 'internal server error', 500, { cause });
  }

  override toJSON(): { error: OAuthErrorCode } {
    return { error: 'server_error' };
  }
}

/**
 * Maps anything thrown to an {@link OAuthError}: OAuth errors pass through; a database locked by
 * another writer or unreachable is a 503 worth retrying; everything else becomes a {@link ServerError} that keeps the
 * original only as `cause`.
 */
export function toOAuthError(err: unknown): OAuthError {
  if (err instanceof OAuthError) return err;
  if (err instanceof StoreError && err.code === 'busy') {
    return new TemporarilyUnavailableError('the database is busy; try again', 1, { cause: err });
  }
  // A networked database that is unreachable or dropped the connection: the pool reconnects by itself.
  if (err instanceof StoreError && err.code === 'unavailable') {
    return new TemporarilyUnavailableError('the database is unavailable; try again', 2, { cause: err });
  }
  return new ServerError(err);
}
