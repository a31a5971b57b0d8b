// The introspection (RFC 7662) and revocation (RFC 7009) endpoint handlers, run after the token router authenticated the client.
import type { Response } from 'express';
import type { AuthorizationServer } from '../core/issuing/authorization-server';
import type { Client } from '../core/model/client';
import { InvalidRequestError, UnauthorizedClientError, UnsupportedTokenTypeError } from '../core/model/errors';
import { sendJson } from './render';

/** A handler for a client-authenticated POST endpoint: the authenticated client and the form parameters. */
export type ClientEndpointHandler = (client: Client, form: Record<string, string>, res: Response) => Promise<void>;

function requireToken(form: Record<string, string>): string {
  if (form.token === undefined) throw new InvalidRequestError('the token parameter is missing');
  return form.token;
}

function requireEnabled(client: Client): void {
  if (!client.enabled) throw new UnauthorizedClientError('the client is disabled');
}

/**
 * RFC 7662 §2.1: only a client holding the introspection scope (`introspectionScope`, default
 * `oauth:introspect`, granted like any other scope) may introspect; `token_type_hint` is ignored
 * since every token is an access token.
 */
export function introspectionHandler(server: AuthorizationServer): ClientEndpointHandler {
  const scope = server.options.introspectionScope;
  return async (client, form, res) => {
    requireEnabled(client);
    if (!client.effectiveScopes.includes(scope)) {
      throw new UnauthorizedClientError(`the client may not introspect tokens: it needs the ${scope} scope`, { status: 403 });
    }
    sendJson(res, 200, await server.introspect(requireToken(form)));
  };
}

/**
 * RFC 7009 §2.1-2.2: a client revokes one of its own tokens; an unknown, invalid or already revoked
 * token is a 200 all the same. This server issues no refresh tokens: a token that is not one of its
 * access tokens and is hinted `refresh_token` is `unsupported_token_type` (§2.2.1); any other hint
 * is only a hint (§2.1).
 */
export function revocationHandler(server: AuthorizationServer): ClientEndpointHandler {
  return async (client, form, res) => {
    requireEnabled(client);
    const known = await server.revokeToken(client, requireToken(form));
    if (!known && form.token_type_hint === 'refresh_token') {
      throw new UnsupportedTokenTypeError('this server issues no refresh tokens');
    }
    res.status(200).end();
  };
}
