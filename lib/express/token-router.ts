// tokenRouter(): the RFC 6749 §4.4 token endpoint and its companions as an Express router: body parsing, client authentication via Passport and the core ClientAuthenticator, the grant, §5 responses.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { AuthorizationServer } from '../core/issuing/authorization-server';
import { basicChallenge } from '../core/verification/challenge';
import type { Client } from '../core/model/client';
import { InvalidClientError, InvalidRequestError, TooManyAttemptsError } from '../core/model/errors';
import type { Refusal } from '../core/client-auth/failure-limits';
import type { TokenRequestParams } from '../core/issuing/grant';
import { clientAuthContext, createClientPassport, STRATEGY_OF_METHOD } from '../passport/strategies';
import { clientAddress, takeClientAddress, withClientAddressOf } from './client-address';
import { bodyParserError, refuseOversizedBodies } from './body-errors';
import { renderOAuthError, sendJson, setNoStore } from './render';
import type { RequestObserver } from './endpoint-metrics';
import { type FrontCheck, INTROSPECTION_PATH, issuerRouter, JWKS_PATH, mountJwks, REVOCATION_PATH } from './metadata';
import { routingForm } from './routing-path';
import { RefusalResponses } from './refusal-response';
import { introspectionHandler, revocationHandler, type ClientEndpointHandler } from './token-management';
import { checkTransport } from './transport';
import { singleProof } from '../core/dpop/binding';
import { firstHeaderValue, headerValues } from './header-values';

const FORM = 'application/x-www-form-urlencoded';
/** A token request has a handful of parameters; more than this is refused before parsing them all. */
const MAX_PARAMETERS = 32;
/** Parameters a client may never put in the request URI (RFC 6749 §2.3.1, §3.2). */
const URI_FORBIDDEN = ['client_secret', 'client_id'];

/** Client authentication parameters every client-authenticated endpoint recognizes (RFC 6749 §2.3.1, RFC 7521 §4.2). */
const CLIENT_AUTH_PARAMETERS = ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type'];

/** The parameters an endpoint recognizes: each at most once, except `repeatable` ones. */
interface Recognized {
  single: ReadonlySet<string>;
  repeatable: ReadonlySet<string>;
}

/** RFC 8707 §2: `resource` may be sent several times, one per API the token is for. */
const TOKEN_PARAMETERS: Recognized = {
  single: new Set([...CLIENT_AUTH_PARAMETERS, 'grant_type', 'scope']),
  repeatable: new Set(['resource']),
};
/** RFC 7662 §2.1 and RFC 7009 §2.1. */
const TOKEN_MANAGEMENT_PARAMETERS: Recognized = {
  single: new Set([...CLIENT_AUTH_PARAMETERS, 'token', 'token_type_hint']),
  repeatable: new Set(),
};

/** The recognized parameters of a request: single ones as strings, repeatable ones as lists. */
interface Form {
  params: Record<string, string>;
  lists: Record<string, string[]>;
}

/**
 * RFC 6749 §3.2: a parameter the endpoint recognizes at most once (a repeated one arrives from the
 * parser as an array, or with an extended parser as an object); parameters it does not recognize are
 * ignored, repeated or not; §3.1: an empty value counts as absent.
 */
function readForm(body: unknown, recognized: Recognized): Form {
  const form: Form = { params: {}, lists: {} };
  if (typeof body !== 'object' || body === null) return form;
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    if (recognized.repeatable.has(name)) {
      const values = Array.isArray(value) ? (value as unknown[]) : [value];
      if (values.some((v) => typeof v !== 'string')) throw new InvalidRequestError(`the ${name} parameter is malformed`);
      const present = (values as string[]).filter((v) => v !== '');
      if (present.length > 0) form.lists[name] = present;
    } else if (recognized.single.has(name)) {
      if (typeof value !== 'string') throw new InvalidRequestError(`the ${name} parameter must be sent exactly once`);
      if (value !== '') form.params[name] = value;
    }
  }
  return form;
}

/** The grant's parameters; `resource` stays a string when sent once and is a list when repeated (RFC 8707 §2). */
function tokenParams(form: Form): TokenRequestParams {
  const resources = form.lists.resource;
  return {
    grant_type: form.params.grant_type,
    scope: form.params.scope,
    resource: resources === undefined ? undefined : resources.length === 1 ? resources[0] : resources,
  };
}

function uriHasCredentials(req: Request): boolean {
  const query = req.originalUrl.indexOf('?');
  if (query < 0) return false;
  const params = new URLSearchParams(req.originalUrl.slice(query + 1));
  return URI_FORBIDDEN.some((name) => params.has(name));
}

/**
 * Issue 16.4, the fast path of a refused address: before the routes (in the pass-through of a root
 * issuer's router, before any Express layer), a request to a client-authenticated endpoint whose
 * address the failure limits refuse and whose `Authorization` header is not a secret this process
 * remembers is answered 429 at once, synchronously: no body read, no Passport, no route dispatch, no
 * trip through Express's error handlers. Everything else (including body credentials, which need the
 * body) goes on to {@link createTokenRouter}'s `readRequest`, which checks the address again. An
 * exception (an audit listener's, say) is sent as the endpoints' error handler would send it.
 */
function refuseRefusedAddresses(
  server: AuthorizationServer,
  paths: readonly string[],
  send: (err: unknown, res: Response) => void,
): FrontCheck {
  const auth = server.clientAuth;
  const guarded = new Set(paths.map(routingForm));
  const refusalOf = (req: Request, authorization: string): TooManyAttemptsError | undefined => {
    let address: string;
    try {
      address = takeClientAddress(req);
    } catch {
      // readRequest answers a request with no address.
      return undefined;
    }
    const refusal = auth.refusesAddress(address);
    return refusal && auth.refuseUnlessRemembered(refusal, { authorization, form: {} }, { address });
  };
  return (req, res, proceed) => {
    if (!guarded.has(routingForm(req.url))) return proceed();
    const authorization = firstHeaderValue(req, 'authorization');
    if (authorization === undefined || authorization === '') return proceed();
    let refused: TooManyAttemptsError | undefined;
    try {
      refused = refusalOf(req, authorization);
    } catch (err: unknown) {
      return send(err, res);
    }
    if (!refused) return proceed();
    send(refused, res);
  };
}

/**
 * Builds the token endpoint of `server`. The host app needs no body parser; if it already parsed the
 * body, the parsed body is used.
 */
export function createTokenRouter(server: AuthorizationServer, observe?: RequestObserver): Router {
  const { realm, tokenPath, bodyLimit, bodyTimeout, logger } = server.options;
  const refuse = refuseRefusedAddresses(server, [tokenPath, INTROSPECTION_PATH, REVOCATION_PATH], sendError);
  // Runs only for requests to the router's own paths (see issuerRouter), before any of its routes;
  // the observer first, so that it sees the early refusals too.
  const front: FrontCheck =
    observe === undefined
      ? refuse
      : (req, res, proceed) => {
          observe(req, res);
          refuse(req, res, proceed);
        };
  const auth = server.clientAuth;
  const refusals = new RefusalResponses();
  const passport = createClientPassport(auth, realm);
  const parseForm = refuseOversizedBodies(
    express.urlencoded({ extended: false, limit: bodyLimit, parameterLimit: MAX_PARAMETERS, type: FORM }),
    bodyLimit,
    bodyTimeout,
  );
  let trustProxyWarned = false;

  /** RFC 6749 §5.2: an invalid_client answer carries the Basic challenge, whichever method was tried. */
  const withChallenge = (err: unknown): unknown =>
    err instanceof InvalidClientError
      ? new InvalidClientError(err.message, { headers: { 'WWW-Authenticate': basicChallenge(realm) } })
      : err;

  function parse(req: Request, res: Response, recognized: Recognized): Promise<Form> {
    return new Promise((resolve, reject) => {
      parseForm(req, res, (err?: unknown) => {
        if (err) return reject(bodyParserError(err) ?? new InvalidRequestError('the request body is malformed', { cause: err }));
        try {
          resolve(readForm(req.body, recognized));
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  /**
   * Runs the strategy on a view of the request: what the strategies read (the Authorization header,
   * the parsed form) and the address taken when it started. Passport's authenticate() gives the
   * request it is handed seven session helpers (`logIn`, `logout`, `isAuthenticated`, `_sessionManager`
   * and the rest), which a token request never uses; added to an Express 5 request, each built the
   * request a hidden class of its own, together about 36 µs a token request in-process (bench/README.md,
   * sixth session). On the view, which has one shape for every request, they cost nothing.
   */
  function runStrategy(name: string, req: Request, res: Response): Promise<Client> {
    const view = withClientAddressOf(req, { headers: { authorization: req.headers.authorization }, body: req.body as unknown });
    return new Promise((resolve, reject) => {
      const authenticate = passport.authenticate(name, { session: false }, (err: unknown, client: Client | false) => {
        if (err) return reject(err);
        if (!client) return reject(new InvalidClientError('client authentication failed'));
        resolve(client);
      });
      authenticate(view as unknown as Request, res, (err?: unknown) => reject(err ?? new InvalidClientError('client authentication failed')));
    });
  }

  /**
   * The core picks the one method the request uses (RFC 6749 §2.3); its Passport strategy reads the
   * credential and hands it, with the request, to the core's verification.
   */
  async function authenticate(req: Request, res: Response, form: Form): Promise<Client> {
    try {
      const method = await auth.select({ authorization: req.headers.authorization, form: form.params }, clientAuthContext(req));
      return await runStrategy(STRATEGY_OF_METHOD[method.name] as string, req, res);
    } catch (err: unknown) {
      throw withChallenge(err);
    }
  }

  /** The rules every client-authenticated endpoint shares: POST, no credentials in the URI, a form body. */
  async function readRequest(req: Request, res: Response, endpoint: string, recognized: Recognized): Promise<Form> {
    setNoStore(res);
    // First, before the body is read: a client that resets the connection takes its address with it.
    takeClientAddress(req);
    checkTransport(req, server.options);
    if (!trustProxyWarned && req.app.get('trust proxy') === true) {
      trustProxyWarned = true;
      logger.warn(
        "Express 'trust proxy' is true: any client can choose its address (X-Forwarded-For) and so escape the per-address failure limit; set it to the number of proxies in front of the app",
      );
    }
    if (req.method !== 'POST') {
      throw new InvalidRequestError(`the ${endpoint} endpoint accepts only POST`, { status: 405, headers: { Allow: 'POST' } });
    }
    if (uriHasCredentials(req)) {
      throw new InvalidRequestError('client credentials must not be sent in the request URI (RFC 6749 §2.3.1)');
    }
    if (!req.is(FORM)) throw new InvalidRequestError(`the request body must be ${FORM}`);
    const refusal = auth.refusesAddress(clientAddress(req));
    if (refusal) return admitRefusedAddress(refusal, req, res, recognized);
    return parse(req, res, recognized);
  }

  /**
   * Issue 16.4: an address the failure limits refuse is answered 429 here, before Passport, and for
   * Basic before the body is read, so a flood's refusal costs little more than Express's own routing.
   * A caller presenting a secret this process remembers (one keyed hash, no store read) goes on down
   * the full path, which confirms it against its client row as before; body credentials need the
   * (bounded) body read first.
   */
  async function admitRefusedAddress(refusal: Refusal, req: Request, res: Response, recognized: Recognized): Promise<Form> {
    const context = { address: clientAddress(req) };
    const { authorization } = req.headers;
    if (authorization !== undefined && authorization !== '') {
      const refused = auth.refuseUnlessRemembered(refusal, { authorization, form: {} }, context);
      if (refused) throw refused;
      return parse(req, res, recognized);
    }
    let form: Form;
    try {
      form = await parse(req, res, recognized);
    } catch {
      throw auth.refuseUnlessRemembered(refusal, { authorization: undefined, form: {} }, context);
    }
    const refused = auth.refuseUnlessRemembered(refusal, { authorization: undefined, form: form.params }, context);
    if (refused) throw refused;
    return form;
  }

  /**
   * A refusal by a failure limit is sent after `refusalDelay` (the core's tarpit, bounded in number),
   * or at once when the tarpit is off or full; one whose client goes away is dropped.
   */
  function sendError(err: unknown, res: Response): void {
    const send = () => {
      setNoStore(res);
      renderOAuthError(res, err, logger);
    };
    if (!(err instanceof TooManyAttemptsError) || res.headersSent) return send();
    const sendRefusal = () => refusals.write(res, err);
    const cancel = auth.tarpit.hold(err.retryAfterSeconds, sendRefusal);
    if (cancel) res.once('close', cancel);
    else sendRefusal();
  }

  async function token(req: Request, res: Response): Promise<void> {
    const form = await readRequest(req, res, 'token', TOKEN_PARAMETERS);
    const params = tokenParams(form);
    server.checkTokenRequest(params);
    // Read here, not in an async helper: a request without a DPoP proof (most) costs no promise or tick.
    const proof = singleProof(headerValues(req, 'dpop'));
    const dpopJkt = proof === undefined ? undefined : await tokenEndpointProof(proof);
    const client = await authenticate(req, res, form);
    const response = await server.issueToken(client, params, dpopJkt === undefined ? {} : { dpopJkt });
    const nonce = server.tokenEndpointDpop.currentNonce();
    if (nonce !== undefined) res.set('DPoP-Nonce', nonce);
    sendJson(res, 200, response);
  }

  /**
   * RFC 9449 §5: a DPoP proof for this endpoint binds the token to its key. Checked before client
   * authentication, so a nonce request (§8) does not spend the client's assertion.
   */
  async function tokenEndpointProof(proof: string): Promise<string> {
    const verified = await server.tokenEndpointDpop.verify(proof, { htm: 'POST', htu: server.tokenEndpointUrl });
    return verified.jkt;
  }

  function route(router: Router): void {
    router.all(tokenPath, (req: Request, res: Response, next: NextFunction) => {
      token(req, res).catch(next);
    });
    const clientEndpoint = (path: string, endpoint: string, handle: ClientEndpointHandler) =>
      router.all(path, (req: Request, res: Response, next: NextFunction) => {
        readRequest(req, res, endpoint, TOKEN_MANAGEMENT_PARAMETERS)
          .then(async (form) => handle(await authenticate(req, res, form), form.params, res))
          .catch(next);
      });
    clientEndpoint(INTROSPECTION_PATH, 'introspection', introspectionHandler(server));
    clientEndpoint(REVOCATION_PATH, 'revocation', revocationHandler(server));
    mountJwks(router, server);
    // Failed authentications are recorded as audit events by the core; this only renders.
    router.use([tokenPath, INTROSPECTION_PATH, REVOCATION_PATH], (err: unknown, _req: Request, res: Response, _next: NextFunction) =>
      sendError(err, res),
    );
  }
  // Every path routed: the returned router passes any other request on at once.
  return issuerRouter(server, { paths: [tokenPath, INTROSPECTION_PATH, REVOCATION_PATH, JWKS_PATH], front, route });
}
