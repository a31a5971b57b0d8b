// Rendering OAuth errors as RFC 6749 §5.2 / RFC 6750 §3 JSON responses, and the error handler apps can mount.
import type { ErrorRequestHandler, Response } from 'express';
import { OAuthError, toOAuthError } from '../core/model/errors';
import type { Logger } from '../options';
import { RENDERED_ERROR } from './endpoint-metrics';

/** RFC 6749 §5.1 / §5.2: token endpoint responses must not be cached. */
export function setNoStore(res: Response): void {
  res.set('Cache-Control', 'no-store');
  res.set('Pragma', 'no-cache');
}

/**
 * Sends `body` as JSON with `status`, as `res.json()` would, but without the ETag (a SHA-1 of the
 * body) and the freshness check Express adds: none of this library's JSON answers (token,
 * introspection, errors) may be cached or answered 304, so both were work for nothing on every
 * request.
 */
export function sendJson(res: Response, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(json));
  res.end(json);
}

/**
 * Writes an error response: status, the error's headers, and `{ error, error_description }`.
 * Anything that is not an {@link OAuthError} becomes a bare `server_error`, logged without details
 * reaching the client.
 */
export function renderOAuthError(res: Response, err: unknown, logger?: Logger): void {
  const oauthError = toOAuthError(err);
  // A deliberate 5xx without a cause (load shedding, reported by its own audit event) is no internal error.
  const internal = !(err instanceof OAuthError) || (err.status >= 500 && (!err.expose || err.cause !== undefined));
  if (internal) {
    logger?.error('request failed with an internal error', err instanceof OAuthError ? (err.cause ?? err) : err);
  }
  if (res.headersSent) {
    res.end();
    return;
  }
  // For the endpoint metrics (endpoint-metrics.ts), which read the code once the response is sent.
  res.locals[RENDERED_ERROR] = oauthError.error ?? undefined;
  res.set(oauthError.headers);
  sendJson(res, oauthError.status, oauthError.toJSON());
}

/**
 * An Express error handler that renders this library's errors as JSON with their status and
 * headers (`WWW-Authenticate`, `Retry-After`) and passes every other error on to the app's next
 * handler. Mount it after your routes when you do not render OAuth errors yourself. Without it,
 * Express's own final handler still sends the right status and `WWW-Authenticate` header (from the
 * error's `status` and `headers`), with its small HTML body instead of the RFC JSON body.
 *
 * @example
 * app.get('/api/items', requireScope('read'), handler);
 * app.use(oauthErrorHandler());
 */
export function oauthErrorHandler(): ErrorRequestHandler {
  return (err, _req, res, next) => {
    if (!(err instanceof OAuthError)) return next(err);
    renderOAuthError(res, err);
  };
}
