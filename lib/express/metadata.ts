// RFC 8414 authorization server metadata and the RFC 7517 JWKS, as routes of tokenRouter(); every URL comes from the configured issuer.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { AuthorizationServer } from '../core/issuing/authorization-server';
import { wellKnownMetadataPath } from '../core/verification/remote-issuer';
import type { ServerConfig } from '../core/issuing/config';
import { renderOAuthError } from './render';
import { routingForm } from './routing-path';
import { ASSERTION_ALGORITHMS } from '../core/client-auth/private-key-jwt';
import { DPOP_ALGORITHMS } from '../core/dpop/proof';

/** Paths of the companion endpoints, relative to the issuer's root (see {@link issuerRouter}). */
export const INTROSPECTION_PATH = '/oauth/introspect';
export const REVOCATION_PATH = '/oauth/revoke';
export const JWKS_PATH = '/.well-known/jwks.json';

/**
 * Remote verifiers refetch the JWKS on an unknown `kid` whatever this says; the max-age only bounds
 * how long an HTTP cache in between may hide a newly rotated key.
 */
const JWKS_CACHE_CONTROL = 'public, max-age=60';
const METADATA_CACHE_CONTROL = 'public, max-age=3600';
const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];

/** The RFC 8414 §2 metadata document, built from configuration only (never from a request's Host). */
export function authorizationServerMetadata(options: ServerConfig): Record<string, unknown> {
  const base = options.issuer.replace(/\/+$/, '');
  return {
    issuer: options.issuer,
    token_endpoint: base + options.tokenPath,
    jwks_uri: base + JWKS_PATH,
    grant_types_supported: ['client_credentials'],
    // RFC 8414 §2 requires the member; there is no authorization endpoint, so no response type.
    response_types_supported: [],
    token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    // RFC 8414 §2: required when private_key_jwt is listed; asymmetric algorithms only.
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    // RFC 9449 §5.1.
    dpop_signing_alg_values_supported: [...DPOP_ALGORITHMS],
    introspection_endpoint: base + INTROSPECTION_PATH,
    introspection_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    introspection_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    revocation_endpoint: base + REVOCATION_PATH,
    revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    revocation_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    ...(options.scopesSupported ? { scopes_supported: options.scopesSupported } : {}),
  };
}

/** The issuer's path without a trailing slash: `''` for `https://host`, `'/tenant'` for `https://host/tenant/`. */
export function issuerPathOf(issuer: string): string {
  return new URL(issuer).pathname.replace(/\/+$/, '');
}

/** Adds the `GET` JWKS route to the token router's endpoints (relative to the issuer's root, as `jwks_uri` says). */
export function mountJwks(router: Router, server: AuthorizationServer): void {
  const { logger } = server.options;
  router.get(JWKS_PATH, (_req: Request, res: Response, _next: NextFunction) => {
    server.keys.getSigner().then(
      // getSigner first: a fresh instance creates its key here rather than publishing an empty set.
      () => server.keys.publicJwks(),
    ).then(
      (keys) => res.status(200).set('Cache-Control', JWKS_CACHE_CONTROL).json({ keys }),
      (err: unknown) => renderOAuthError(res, err, logger),
    );
  });
}

/**
 * What runs first for a request to one of the token router's own paths (the endpoint metrics, the
 * early refusal of a refused address): answers the request, or calls `proceed()`. It never fails:
 * it renders its own errors as the endpoints' error handler would.
 */
export type FrontCheck = (req: Request, res: Response, proceed: () => void) => void;

/** The token router's endpoints, for {@link issuerRouter} to place: their paths, their front check, their routes. */
export interface IssuerEndpoints {
  /** Every path the routes answer at, relative to the issuer's root. */
  paths: readonly string[];
  /** Runs before the routes, for the router's own paths only. */
  front: FrontCheck;
  /** Adds the routes (and their error handler) to `router`. */
  route(router: Router): void;
}

/**
 * Makes `router` hand every request for a path outside `paths` straight on. Mounted at the host's
 * root, tokenRouter() sees every request of the app; walking its layers (each a path match, with the
 * router's bookkeeping around them) cost an API request 4 to 7 µs that never reaches a token route.
 * Express calls a router through its `handle` property, so the check sits there and the router stays
 * a Router. Every route of the token router must be in `paths`. A `front` check runs here too, for
 * the router's own paths, before Express dispatches a layer: an early refusal costs no routing at all.
 */
function passOnOtherPaths(router: Router, paths: readonly string[], front?: FrontCheck): void {
  type Handle = (req: Request, res: Response, next: NextFunction) => void;
  const known = new Set(paths.map(routingForm));
  const withHandle = router as Router & { handle: Handle };
  const handle = withHandle.handle.bind(router);
  withHandle.handle =
    front === undefined
      ? (req, res, next) => {
          if (known.has(routingForm(req.url))) handle(req, res, next);
          else next();
        }
      : (req, res, next) => {
          if (!known.has(routingForm(req.url))) return next();
          front(req, res, () => handle(req, res, next));
        };
}

/**
 * The router `tokenRouter()` returns, to mount at the host's root: it answers at exactly the URLs its
 * metadata publishes. RFC 8414 §3.1 puts the metadata of `https://host/tenant` at
 * `/.well-known/oauth-authorization-server/tenant`, outside the issuer's path, so the endpoints
 * (relative to the issuer's root) are mounted under that path here rather than by the app.
 * A router mounted at the issuer's path (as before) still serves the endpoints there, but cannot
 * serve the metadata, which lies outside its mount: that is logged once.
 *
 * An issuer without a path (the common case) gets one router, the endpoints' routes next to the
 * metadata route and their front check in the pass-through: each nested router an Express 5 request
 * goes through costs it several µs. With a path, the endpoints are a router of their own, mounted
 * under it, whose first layer is the front check.
 */
export function issuerRouter(server: AuthorizationServer, endpoints: IssuerEndpoints): Router {
  const { issuer, logger } = server.options;
  const path = issuerPathOf(issuer);
  const metadataPath = wellKnownMetadataPath(issuer);
  const document = JSON.stringify(authorizationServerMetadata(server.options));
  const router = express.Router();
  const serveMetadata = (req: Request, res: Response, next: NextFunction) => {
    // Under the issuer's path is where RFC 8414 §3.1 says the metadata is not.
    if (path !== '' && req.baseUrl === path) return next();
    res.status(200).set('Cache-Control', METADATA_CACHE_CONTROL).type('application/json').send(document);
  };
  if (path === '') {
    // The metadata route comes before the front check: a token path configured at the metadata's URL
    // (which nothing forbids) keeps the check behind that route, as a layer.
    const hoisted = !endpoints.paths.some((p) => routingForm(p) === routingForm(metadataPath));
    passOnOtherPaths(router, [metadataPath, ...endpoints.paths], hoisted ? endpoints.front : undefined);
    router.get(metadataPath, serveMetadata);
    if (!hoisted) router.use(endpoints.front);
    endpoints.route(router);
    return router;
  }
  const routes = express.Router();
  routes.use(endpoints.front);
  endpoints.route(routes);
  passOnOtherPaths(router, [metadataPath, ...endpoints.paths, ...endpoints.paths.map((p) => `${path}${p}`)]);
  router.get(metadataPath, serveMetadata);
  router.use(path, routes);
  let warned = false;
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (req.baseUrl !== path) return next();
    if (!warned) {
      warned = true;
      logger.warn(
        `tokenRouter() is mounted at ${path}: mount it at the root (app.use(oauth.tokenRouter())), so that it can serve ` +
          `the metadata at ${wellKnownMetadataPath(issuer)} (RFC 8414 §3.1)`,
      );
    }
    routes(req, res, next);
  });
  return router;
}
