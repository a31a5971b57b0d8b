// resourceMetadataRouter(): serves a protected resource's RFC 9728 metadata at its path-aware well-known URL.
import express, { type Request, type Response, type Router } from 'express';
import {
  protectedResourceMetadataPath,
  type ProtectedResources,
  type PublishedResource,
} from '../core/verification/protected-resource';

const METADATA_CACHE_CONTROL = 'public, max-age=3600';

/**
 * Publishes `published.resource` in `resources` (so guards accepting it name the URL in their
 * challenges, RFC 9728 §5.1) and serves its document (§3.2) at
 * `/.well-known/oauth-protected-resource<resource path>` (§3.1). Mount it at the root of the origin
 * the resource identifier names.
 */
export function createResourceMetadataRouter(resources: ProtectedResources, published: PublishedResource): Router {
  resources.publish(published);
  const router = express.Router({ caseSensitive: true, strict: true });
  router.get(protectedResourceMetadataPath(published.resource), (_req: Request, res: Response) => {
    res.status(200).set('Cache-Control', METADATA_CACHE_CONTROL).type('application/json').send(resources.documentJson(published.resource));
  });
  return router;
}
