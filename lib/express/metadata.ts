// RFC 8414 authorization server metadata and the RFC 7517 JWKS, as routes of tokenRouter(); every URL comes from the configured issuer.
import type { NextFunction, Request, Response, Router } from 'express';
import type { AuthorizationServer } from '../core/issuing/authorization-server';
import { wellKnownMetadataPath } from '../core/verification/remote-issuer';
import type { ResolvedOptions } from '../options';
import { renderOAuthError } from './render';
import { ASSERTION_ALGORITHMS } from '../core/client-auth/private-key-jwt';
import { DPOP_ALGORITHMS } from '../core/dpop/proof';

/** Paths of the companion endpoints, relative to where `tokenRouter()` is mounted (the issuer's root). */
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
export function authorizationServerMetadata(options: ResolvedOptions): Record<string, unknown> {
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

/** Adds `GET` metadata and JWKS routes to the token router. */
export function mountMetadata(router: Router, server: AuthorizationServer): void {
  const { issuer, logger } = server.options;
  const document = JSON.stringify(authorizationServerMetadata(server.options));
  router.get(wellKnownMetadataPath(issuer), (_req: Request, res: Response) => {
    res.status(200).set('Cache-Control', METADATA_CACHE_CONTROL).type('application/json').send(document);
  });
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
