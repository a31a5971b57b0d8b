// Metrics of the token, introspection and revocation endpoints, read from each finished response: an observer in front of the token router's routes, outside its request path.
import type { Request, Response } from 'express';
import type { ClientAuthMethod, ClientAuthResult, OAuthMetrics } from '../core/observability/metrics';
import { routingForm } from './routing-path';

/** Where {@link renderOAuthError} leaves the RFC error code of a response, for the metrics to read. */
export const RENDERED_ERROR = 'oauthError';

/** RFC 6749 §2.3.1: the method the request used, or undefined when it carried no client secret. */
function authMethod(req: Request): ClientAuthMethod | undefined {
  const header = req.headers.authorization;
  if (header !== undefined && /^basic(?: |$)/i.test(header)) return 'client_secret_basic';
  const body = req.body as Record<string, unknown> | undefined;
  if (typeof body === 'object' && body !== null && typeof body.client_secret === 'string' && body.client_secret !== '') {
    return 'client_secret_post';
  }
  return undefined;
}

/**
 * The outcome of the client authentication a finished request went through, from its status and
 * error code. `invalid_request` and `unsupported_grant_type` are decided before authentication, and
 * a server error may come from either side, so those are not counted; an error decided after
 * authentication (`invalid_scope`, `invalid_target`, `unauthorized_client`) means it succeeded.
 */
export function authenticationResult(status: number, error: string | undefined): ClientAuthResult | undefined {
  if (status < 400) return 'success';
  // A limit's refusal is invalid_client with 429 (TooManyAttemptsError): no secret was compared.
  if (status === 429 || error === 'temporarily_unavailable') return 'refused';
  if (error === 'invalid_client') return 'failure';
  if (error === undefined || error === 'invalid_request' || error === 'unsupported_grant_type' || status >= 500) return undefined;
  return 'success';
}

/**
 * Looks at a request to the token router's own paths before its routes (and before an early
 * refusal), synchronously, and cannot fail: the token router calls it outside Express's layers.
 */
export type RequestObserver = (req: Request, res: Response) => void;

/**
 * Counts token requests (by result and error code) and client authentications (by method and
 * result) once each response has been sent. Run by the token router before its routes.
 */
export function endpointMetrics(metrics: OAuthMetrics, tokenPath: string, clientEndpoints: readonly string[]): RequestObserver {
  const token = routingForm(tokenPath);
  const counted = new Set([token, ...clientEndpoints.map(routingForm)]);
  return (req: Request, res: Response) => {
    const path = routingForm(req.url);
    if (!counted.has(path)) return;
    const isToken = path === token;
    res.once('finish', () => {
      const rendered = res.locals[RENDERED_ERROR] as unknown;
      const error = typeof rendered === 'string' ? rendered : res.statusCode >= 400 ? 'server_error' : undefined;
      if (isToken) metrics.tokenRequest(error);
      const method = authMethod(req);
      const result = method && authenticationResult(res.statusCode, error);
      if (method && result) metrics.clientAuthentication(method, result);
    });
  };
}
