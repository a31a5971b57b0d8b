// requireScope(): the RFC 6750 / RFC 9449 resource guard: Bearer or DPoP extraction, verification through a TokenVerifier, proof-of-possession, scope check, req.auth.
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { bearerChallenge, dpopChallenge } from '../core/verification/challenge';
import { boundThumbprint, checkTokenBinding, isDpopError, singleProof, type DpopChecker, type PresentedToken } from '../core/dpop/binding';
import type { AccessTokenClaims, VerifiedAccessToken } from '../core/tokens/jwt';
import {
  BearerTokenMissingError,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  OAuthError,
  ServerError,
  toOAuthError,
} from '../core/model/errors';
import { resolveRequiredScopes, type GuardOptions } from '../options/guard';
import type { Logger } from '../core/model/logger';
import type { GuardDecision } from '../core/observability/metrics';
import { bodyParserError } from './body-errors';
import { headerValues } from './header-values';

/**
 * What a guard puts on `req.auth` when the token is good. For a token the guard remembers it is one
 * frozen object (scopes and claims too) shared by every request presenting that token: copy it to
 * add fields.
 */
export interface AuthInfo {
  /** The client the token was issued to. */
  clientId: string;
  /** The granted scopes. */
  scopes: string[];
  /** Every claim of the token. */
  claims: AccessTokenClaims;
}

/** Alias used inside `namespace Express`, where `AuthInfo` would name @types/passport's empty `Express.AuthInfo`. */
type RequireScopeAuthInfo = AuthInfo;

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by `requireScope()` once the bearer token has been verified. */
      auth?: RequireScopeAuthInfo;
    }
  }
}

/**
 * A request that passed a guard: `req.auth` is set, so a guarded handler needs no `req.auth!`.
 * `R` is the request type of the route (e.g. `Request<{ id: string }>`).
 *
 * @example
 * app.get('/api/items/:id', requireScope('read'), withAuth<Request<{ id: string }>>((req, res) => {
 *   res.json({ id: req.params.id, caller: req.auth.clientId });
 * }));
 */
export type AuthenticatedRequest<R extends Request = Request> = R & { auth: AuthInfo };

/**
 * Wraps a handler that runs behind a guard, typing its request as {@link AuthenticatedRequest}. If no
 * guard ran before it (a wiring mistake), the request goes to `next(err)` as a `ServerError`
 * (`500 server_error`, no detail); an error the handler throws or rejects with goes to `next(err)`
 * unchanged, for the app's error handler (also on Express 4, which ignores rejected promises).
 *
 * @example
 * app.post('/api/items', requireScope('write'), withAuth((req, res) => {
 *   res.status(201).json({ createdBy: req.auth.clientId });
 * }));
 */
export function withAuth<R extends Request = Request>(
  handler: (req: AuthenticatedRequest<R>, res: Response, next: NextFunction) => unknown,
): RequestHandler {
  return (req, res, next) => {
    if (req.auth === undefined) {
      next(new ServerError(new Error('withAuth(): no requireScope() guard ran before this handler')));
      return;
    }
    try {
      const result = handler(req as unknown as AuthenticatedRequest<R>, res, next);
      if (result instanceof Promise) result.catch(next);
    } catch (err) {
      next(err);
    }
  };
}

/** Anything that can turn a bearer token into verified claims (this issuer's key ring, a remote JWKS, introspection). */
export interface TokenVerifier {
  verify(token: string): Promise<VerifiedAccessToken>;
  /**
   * The verification of a token already verified and cached, when it can be told without waiting;
   * undefined sends the token to {@link verify}. Throws as `verify` rejects (a revoked token).
   */
  verifyCached?(token: string): VerifiedAccessToken | undefined;
}

/** What a guard needs at request time, resolved once on first use. */
export interface GuardRuntime {
  verifier: TokenVerifier;
  realm: string;
  allowBodyToken: boolean;
  logger: Logger;
  /** The RFC 9728 metadata URL the guard's challenges name (§5.1), once a metadata router publishes it. */
  resourceMetadata?: () => string | undefined;
  /** Told of every decision (metrics). */
  onDecision?: (decision: GuardDecision) => void;
  /** DPoP (RFC 9449 §7): the guard's policy and proof checker; undefined accepts Bearer only. */
  dpop?: GuardDpop;
}

/** A guard's DPoP policy: whether bearer tokens still pass, how the request URI is known, the proof checker. */
export interface GuardDpop {
  mode: 'allowed' | 'required';
  /** Public URL prefix of the service (for `htu` behind a proxy); never taken from forwarded headers. */
  publicBaseUrl: string | undefined;
  checker: DpopChecker;
}

/** `requireScope('a', 'b')` needs every scope; `requireScope.any('a', 'b')` needs one of them. */
export interface RequireScope {
  (...args: [string, ...(string | GuardOptions)[]]): RequestHandler;
  /** The any-of form: the token needs at least one of the scopes. */
  any(...args: [string, ...(string | GuardOptions)[]]): RequestHandler;
}

/** RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
/** RFC 9449 §7.1: credentials = "DPoP" 1*SP token68. */
const DPOP = /^DPoP +([A-Za-z0-9\-._~+/]+=*)$/i;
const FORM = 'application/x-www-form-urlencoded';

function splitArgs(args: readonly unknown[]): { scopes: unknown[]; options: GuardOptions } {
  const last = args[args.length - 1];
  if (typeof last === 'object' && last !== null && !Array.isArray(last)) return { scopes: args.slice(0, -1), options: last as GuardOptions };
  return { scopes: [...args], options: {} };
}

function uriHasToken(req: Request): boolean {
  const query = req.originalUrl.indexOf('?');
  return query >= 0 && new URLSearchParams(req.originalUrl.slice(query + 1)).has('access_token');
}

/**
 * Whether a raw header name is `Authorization`, in any case. The length first, so most headers are
 * told apart at once; then the two usual spellings, compared without making a lower-cased copy.
 */
function isAuthorizationName(name: string): boolean {
  return name.length === 13 && (name === 'Authorization' || name === 'authorization' || name.toLowerCase() === 'authorization');
}

/** Node keeps only the first of repeated Authorization headers; the raw list shows whether there were more. */
function authorizationHeaderCount(req: Request): number {
  let count = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (isAuthorizationName(raw[i] as string)) count++;
  return count;
}

const parseForm = express.urlencoded({ extended: false, limit: 8 * 1024, parameterLimit: 32, type: FORM });

/** RFC 6750 §2.2: a form-body token, only for non-GET form requests, read only when the guard allows it. */
function bodyToken(req: Request, res: Response): Promise<string | undefined> {
  if (req.method === 'GET' || !req.is(FORM)) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    parseForm(req, res, (err?: unknown) => {
      if (err) return reject(bodyParserError(err) ?? new InvalidRequestError('the request body is malformed', { cause: err }));
      const value = (req.body as Record<string, unknown> | undefined)?.access_token;
      if (value === undefined) return resolve(undefined);
      if (typeof value !== 'string' || !/^[A-Za-z0-9\-._~+/]+=*$/.test(value)) {
        return reject(new InvalidRequestError('the access_token parameter is malformed'));
      }
      resolve(value);
    });
  });
}

/**
 * RFC 6750 §2: the token comes from exactly one place. A token in the URI is refused (RFC 9700 §2.4
 * / RFC 6750 §5.3); the form body is read only when `allowBodyToken` is set.
 */
async function extractToken(req: Request, res: Response, allowBody: boolean, dpop: GuardDpop | undefined): Promise<PresentedToken> {
  checkTokenPlaces(req);
  const fromBody = allowBody ? await bodyToken(req, res) : undefined;
  return presentedToken(req, fromBody, dpop);
}

/** RFC 6750 §2 / RFC 9700 §2.4: no token in the URI, at most one Authorization header. */
function checkTokenPlaces(req: Request): void {
  if (uriHasToken(req)) throw new InvalidRequestError('access tokens in the request URI are not accepted');
  if (authorizationHeaderCount(req) > 1) throw new InvalidRequestError('send exactly one Authorization header');
}

/** The token from the header or the already-read body token; synchronous, so a guard without body tokens awaits nothing here. */
function presentedToken(req: Request, fromBody: string | undefined, dpop: GuardDpop | undefined): PresentedToken {
  const header = req.headers.authorization;
  const proof = dpop ? singleProof(headerValues(req, 'dpop')) : undefined;
  if (header !== undefined && /^bearer(?:\s|$)/i.test(header)) {
    const match = BEARER.exec(header);
    if (!match) throw new InvalidRequestError('the Authorization header is not a well-formed Bearer credential');
    if (fromBody !== undefined) throw new InvalidRequestError('send the access token one way only');
    return { scheme: 'Bearer', token: match[1] as string, proof };
  }
  if (dpop && header !== undefined && /^dpop(?:\s|$)/i.test(header)) {
    const match = DPOP.exec(header);
    if (!match) throw new InvalidRequestError('the Authorization header is not a well-formed DPoP credential');
    if (fromBody !== undefined) throw new InvalidRequestError('send the access token one way only');
    return { scheme: 'DPoP', token: match[1] as string, proof };
  }
  if (fromBody !== undefined) return { scheme: 'Bearer', token: fromBody, proof };
  throw new BearerTokenMissingError();
}

/**
 * RFC 9449 §4.3 item 9: the URI of this request as clients address it, without query. From the
 * configured public base URL when set; else the socket's scheme and the Host header, never
 * X-Forwarded-* (anyone can send those).
 */
function requestUri(req: Request, publicBaseUrl: string | undefined): string {
  const path = req.originalUrl.split('?')[0] as string;
  if (publicBaseUrl !== undefined) return publicBaseUrl + path;
  const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
  return `${secure ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}${path}`;
}

/**
 * The value of the request's only Authorization header, read from the raw list (which the fast path
 * walks anyway to refuse a second one); undefined when there is none or more than one.
 */
function soleAuthorization(req: Request): string | undefined {
  let value: string | undefined;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (isAuthorizationName(raw[i] as string)) {
      if (value !== undefined) return undefined;
      value = raw[i + 1];
    }
  }
  return value;
}

/**
 * What follows `Bearer ` in the only Authorization header, unchecked: only a candidate for the cache,
 * which answers only when it is, whole, a token it holds. The cache holds only tokens the full path
 * took out of a well-formed credential (BEARER, DPOP or a body token: the same b64token characters),
 * so a hit means the header was a well-formed Bearer credential; anything else (lower case, two
 * spaces, a token not cached) misses and takes the full path, as do two Authorization headers and a
 * token in the URI. This spares matching BEARER over the whole token on every request (half a
 * microsecond for an 800-character RS256 token).
 */
function cachedCandidate(req: Request): string | undefined {
  const header = soleAuthorization(req);
  return header !== undefined && header.startsWith('Bearer ') && !uriHasToken(req) ? header.slice(7) : undefined;
}

/** `req.auth` for a verification: a cached one is already the frozen `{ clientId, scopes, claims }` every request with the token shares. */
function authInfo(verified: VerifiedAccessToken): AuthInfo {
  return Object.isFrozen(verified) ? verified : { clientId: verified.clientId, scopes: verified.scopes, claims: verified.claims };
}

/** Renders a refusal: logged when it is the server's fault, counted, with its challenge, to `next(err)`. */
function deny(rt: GuardRuntime, next: NextFunction, err: unknown, scheme: 'Bearer' | 'DPoP' | undefined): void {
  const oauthError = toOAuthError(err);
  if (oauthError.status >= 500) rt.logger.error('the guard could not verify a token', err);
  rt.onDecision?.({ result: 'denied', error: err instanceof BearerTokenMissingError ? 'missing_token' : oauthError.error });
  next(withChallenge(oauthError, rt, scheme));
}

/** Adds the RFC 6750 §3 challenge (with RFC 9728 §5.1 `resource_metadata` when published) to an error on its way to `next(err)`. */
function withChallenge(err: OAuthError, rt: GuardRuntime, scheme: 'Bearer' | 'DPoP' | undefined): OAuthError {
  // RFC 9449 §7.1: DPoP errors, requests that used the DPoP scheme, and DPoP-only resources answer with a DPoP challenge.
  const dpop = rt.dpop && (isDpopError(err) || scheme === 'DPoP' || rt.dpop.mode === 'required') ? rt.dpop : undefined;
  if (dpop && (err.status === 401 || err.status === 403 || err.error === 'invalid_request')) {
    err.headers['WWW-Authenticate'] = dpopChallenge({
      realm: rt.realm,
      algs: dpop.checker.algorithms,
      resourceMetadata: rt.resourceMetadata?.(),
      error: err.error,
      description: err.message,
      ...(err instanceof InsufficientScopeError ? { scope: err.requiredScopes } : {}),
    });
  } else if (err.status === 401 || err.status === 403 || err.error === 'invalid_request') {
    err.headers['WWW-Authenticate'] = bearerChallenge({
      realm: rt.realm,
      resourceMetadata: rt.resourceMetadata?.(),
      error: err.error,
      description: err.message,
      ...(err instanceof InsufficientScopeError ? { scope: err.requiredScopes } : {}),
    });
  }
  return err;
}

/**
 * Builds `requireScope` over a runtime provider. `bind` receives each guard's options and required
 * scopes when the route is defined (to validate them, and to declare the scopes for RFC 9728
 * metadata) and returns how to get the runtime on first request, so a zero-config guard opens
 * nothing until it is used.
 */
export function createRequireScope(bind: (options: GuardOptions, scopes: readonly string[]) => () => GuardRuntime): RequireScope {
  const build = (mode: 'all' | 'any', args: readonly unknown[]): RequestHandler => {
    const { scopes, options } = splitArgs(args);
    const required = resolveRequiredScopes(scopes);
    const getRuntime = bind(options, required);
    // A token carries a handful of scopes: looked up in its array, with no Set built per request.
    const allowed =
      mode === 'all'
        ? (granted: readonly string[], needed: readonly string[]) => needed.every((scope) => granted.includes(scope))
        : (granted: readonly string[], needed: readonly string[]) => needed.some((scope) => granted.includes(scope));
    let runtime: GuardRuntime | undefined;

    async function authorize(req: Request, res: Response, rt: GuardRuntime, seen: { scheme?: 'Bearer' | 'DPoP' }): Promise<void> {
      const presented = await extractToken(req, res, rt.allowBodyToken, rt.dpop);
      seen.scheme = presented.scheme;
      const verified = await rt.verifier.verify(presented.token);
      if (rt.dpop) {
        await checkTokenBinding(presented, verified.claims, rt.dpop.checker, {
          htm: req.method,
          htu: requestUri(req, rt.dpop.publicBaseUrl),
          mode: rt.dpop.mode,
        });
      } else if (boundThumbprint(verified.claims) !== undefined) {
        // A guard that cannot check proofs must still never accept a bound token as a bearer token (RFC 9449 §7.2).
        throw new InvalidTokenError('DPoP-bound access tokens are not accepted here');
      }
      grant(req, verified);
    }

    function grant(req: Request, verified: VerifiedAccessToken): void {
      if (!allowed(verified.scopes, required)) {
        const needs = mode === 'all' ? 'the scopes' : 'one of the scopes';
        throw new InsufficientScopeError(`this resource needs ${needs} ${required.join(' ')}`, required);
      }
      req.auth = authInfo(verified);
    }

    return (req: Request, res: Response, next: NextFunction): void => {
      let rt: GuardRuntime;
      try {
        rt = runtime ??= getRuntime();
      } catch (err) {
        return next(toOAuthError(err));
      }
      // A Bearer token verified before and still good in memory is granted here, with no promise and
      // nothing allocated (req.auth is the cache entry's frozen object): most requests of a running
      // service. Anything else (a body token, the DPoP scheme, a token not cached or whose client
      // memory cannot judge, a DPoP-bound token, a DPoP-only resource, a missing scope) takes the
      // full, asynchronous path, which gives every refusal but a revoked or void cached token's.
      const token = rt.allowBodyToken || !rt.verifier.verifyCached || rt.dpop?.mode === 'required' ? undefined : cachedCandidate(req);
      if (token !== undefined) {
        let verified: VerifiedAccessToken | undefined;
        try {
          verified = (rt.verifier.verifyCached as (token: string) => VerifiedAccessToken | undefined)(token);
        } catch (err) {
          return deny(rt, next, err, 'Bearer');
        }
        if (verified && boundThumbprint(verified.claims) === undefined && allowed(verified.scopes, required)) {
          req.auth = authInfo(verified);
          rt.onDecision?.({ result: 'allowed', clientId: verified.clientId });
          return next();
        }
      }
      const seen: { scheme?: 'Bearer' | 'DPoP' } = {};
      authorize(req, res, rt, seen).then(
        () => {
          // RFC 9449 §9 (as §8.2): a guard that asks for nonces hands the current one to each DPoP
          // request it grants, so a client moves to the next nonce before its own goes stale.
          if (seen.scheme === 'DPoP') {
            const nonce = rt.dpop?.checker.currentNonce();
            if (nonce !== undefined) res.setHeader('DPoP-Nonce', nonce);
          }
          rt.onDecision?.({ result: 'allowed', clientId: req.auth?.clientId });
          next();
        },
        (err: unknown) => deny(rt, next, err, seen.scheme),
      );
    };
  };
  const requireScope = ((...args: unknown[]) => build('all', args)) as RequireScope;
  requireScope.any = (...args: unknown[]) => build('any', args);
  return requireScope;
}
