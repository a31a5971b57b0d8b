// tokenRouter(): the RFC 6749 §4.4 token endpoint as an Express router: body parsing, client authentication via Passport, the grant, §5 responses.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { AuthorizationServer } from '../core/issuing/authorization-server';
import { basicChallenge } from '../core/verification/challenge';
import type { Client } from '../core/model/client';
import {
  InvalidClientError,
  InvalidRequestError,
  OAuthError,
  UnauthorizedClientError,
  type OAuthErrorOptions,
} from '../core/model/errors';
import { BASIC, BODY, createClientPassport, parseBasicCredentials } from '../passport/strategies';
import { auditableClientId } from '../core/client-auth/secrets';
import { bodyParserError, refuseOversizedBodies } from './body-errors';
import { renderOAuthError, setNoStore } from './render';
import { INTROSPECTION_PATH, issuerRouter, mountJwks, REVOCATION_PATH } from './metadata';
import { introspectionHandler, revocationHandler, type ClientEndpointHandler } from './token-management';
import { checkTransport } from './transport';

const FORM = 'application/x-www-form-urlencoded';
/** A token request has a handful of parameters; more than this is refused before parsing them all. */
const MAX_PARAMETERS = 32;
/** Parameters a client may never put in the request URI (RFC 6749 §2.3.1, §3.2). */
const URI_FORBIDDEN = ['client_secret', 'client_id'];

type Form = Record<string, string>;

/**
 * RFC 6749 §3.2: every parameter at most once; §3.1: an empty value counts as absent. A repeated
 * parameter arrives from the parser as an array (or, with an extended parser, an object).
 */
function readForm(body: unknown): Form {
  if (typeof body !== 'object' || body === null) return {};
  const form: Form = {};
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    // RFC 8707 §2: `resource` may repeat, one per audience; the grant reads string | string[].
    if (name === 'resource' && Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      (form as Record<string, unknown>)[name] = value.filter((v) => v !== '');
      continue;
    }
    if (typeof value !== 'string') throw new InvalidRequestError(`the ${name} parameter must be sent exactly once`);
    if (value !== '') form[name] = value;
  }
  return form;
}

function uriHasCredentials(req: Request): boolean {
  const query = req.originalUrl.indexOf('?');
  if (query < 0) return false;
  const params = new URLSearchParams(req.originalUrl.slice(query + 1));
  return URI_FORBIDDEN.some((name) => params.has(name));
}

/** The client id a failed request claimed to be (Basic or body), for audit events; never the secret (see auditableClientId). */
function claimedClientId(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (header) {
    const basic = parseBasicCredentials(header);
    return auditableClientId(basic.ok ? basic.clientId : undefined);
  }
  const id = (req.body as Record<string, unknown> | undefined)?.client_id;
  return auditableClientId(typeof id === 'string' ? id : undefined);
}

/**
 * Builds the token endpoint of `server`. The host app needs no body parser; if it already parsed the
 * body, the parsed body is used.
 */
export function createTokenRouter(server: AuthorizationServer): Router {
  const { realm, tokenPath, bodyLimit, bodyTimeout, logger } = server.options;
  const router = express.Router();
  const passport = createClientPassport((id, secret) => server.authenticateClient(id, secret), realm);
  const parseForm = refuseOversizedBodies(
    express.urlencoded({ extended: false, limit: bodyLimit, parameterLimit: MAX_PARAMETERS, type: FORM }),
    bodyLimit,
    bodyTimeout,
  );

  const invalidClient = (description: string, options?: OAuthErrorOptions) =>
    new InvalidClientError(description, { ...options, headers: { 'WWW-Authenticate': basicChallenge(realm) } });

  function parse(req: Request, res: Response): Promise<Form> {
    return new Promise((resolve, reject) => {
      parseForm(req, res, (err?: unknown) => {
        if (err) return reject(bodyParserError(err) ?? new InvalidRequestError('the request body is malformed', { cause: err }));
        try {
          resolve(readForm(req.body));
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  function runStrategy(name: string, req: Request, res: Response): Promise<Client> {
    return new Promise((resolve, reject) => {
      const authenticate = passport.authenticate(name, { session: false }, (err: unknown, client: Client | false) => {
        if (err) return reject(err);
        if (!client) return reject(invalidClient('client authentication failed'));
        resolve(client);
      });
      authenticate(req, res, (err?: unknown) => reject(err ?? invalidClient('client authentication failed')));
    });
  }

  /**
   * RFC 6749 §2.3: exactly one authentication method. Basic and a body secret together are
   * `invalid_request`; a bare body `client_id` next to Basic must name the same client (§3.2.1).
   */
  async function authenticate(req: Request, res: Response, form: Form): Promise<Client> {
    const header = req.headers.authorization;
    if (header !== undefined && header !== '') {
      if (!/^basic(?: |$)/i.test(header)) {
        throw invalidClient('the token endpoint accepts only HTTP Basic client authentication');
      }
      const basic = parseBasicCredentials(header);
      if (form.client_secret !== undefined) {
        throw new InvalidRequestError('use either HTTP Basic or body credentials, not both (RFC 6749 §2.3)');
      }
      if (!basic.ok) throw invalidClient(basic.reason);
      if (form.client_id !== undefined && form.client_id !== basic.clientId) {
        throw new InvalidRequestError('the client_id parameter does not match the authenticated client');
      }
      // RFC 7235 §2.1 allows several spaces after the scheme; passport-http splits on one.
      req.headers.authorization = header.replace(/^(\S+) +/, '$1 ');
      return server.authGuard.run(
        { clientId: basic.clientId, address: req.ip },
        () => runStrategy(BASIC, req, res),
        () => server.recallsSecret(basic.clientId, basic.clientSecret),
      );
    }
    if (form.client_id !== undefined && form.client_secret !== undefined) {
      const { client_id: clientId, client_secret: clientSecret } = form;
      return server.authGuard.run(
        { clientId, address: req.ip },
        () => runStrategy(BODY, req, res),
        () => server.recallsSecret(clientId, clientSecret),
      );
    }
    if (form.client_secret !== undefined) throw invalidClient('client_secret was sent without client_id');
    if (form.client_id !== undefined) {
      const client = await server.findClient(form.client_id);
      if (client && client.secrets.length === 0) {
        throw new UnauthorizedClientError('public clients may not use the client_credentials grant');
      }
      throw invalidClient('client authentication is required');
    }
    throw invalidClient('client authentication is required');
  }

  /** The rules every client-authenticated endpoint shares: POST, no credentials in the URI, a form body. */
  async function readRequest(req: Request, res: Response, endpoint: string): Promise<Form> {
    setNoStore(res);
    checkTransport(req, server.options);
    if (req.method !== 'POST') {
      throw new InvalidRequestError(`the ${endpoint} endpoint accepts only POST`, { status: 405, headers: { Allow: 'POST' } });
    }
    if (uriHasCredentials(req)) {
      throw new InvalidRequestError('client credentials must not be sent in the request URI (RFC 6749 §2.3.1)');
    }
    if (!req.is(FORM)) throw new InvalidRequestError(`the request body must be ${FORM}`);
    return parse(req, res);
  }

  async function token(req: Request, res: Response): Promise<void> {
    const form = await readRequest(req, res, 'token');
    server.checkTokenRequest(form);
    const client = await authenticate(req, res, form);
    res.status(200).json(await server.issueToken(client, form));
  }

  router.all(tokenPath, (req: Request, res: Response, next: NextFunction) => {
    token(req, res).catch(next);
  });
  const clientEndpoint = (path: string, endpoint: string, handle: ClientEndpointHandler) =>
    router.all(path, (req: Request, res: Response, next: NextFunction) => {
      readRequest(req, res, endpoint)
        .then(async (form) => handle(await authenticate(req, res, form), form, res))
        .catch(next);
    });
  clientEndpoint(INTROSPECTION_PATH, 'introspection', introspectionHandler(server));
  clientEndpoint(REVOCATION_PATH, 'revocation', revocationHandler(server));
  mountJwks(router, server);
  router.use([tokenPath, INTROSPECTION_PATH, REVOCATION_PATH], (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    setNoStore(res);
    if (err instanceof InvalidClientError) {
      server.events.record('client.authentication_failed', {
        clientId: claimedClientId(req),
        reason: err.message,
        address: req.ip,
      });
    }
    renderOAuthError(res, err, logger);
  });
  return issuerRouter(router, server);
}
