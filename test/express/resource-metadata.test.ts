// resourceMetadataRouter(): RFC 9728 metadata for local and remote guards, and the resource_metadata challenge a client follows to it on loopback.
import type { RequestListener } from 'node:http';
import express from 'express';
import request from 'supertest';
import { createOAuth, createResourceServer, oauthErrorHandler } from '../../lib';
import { fetchProtectedResourceMetadata, resourceMetadataFromChallenge } from '../../lib/core';
import { memoryLogger, tempDir } from '../helpers';
import { listen, startIssuer } from '../remote-helpers';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A local instance whose audience is `<loopback origin>/items`, serving its token endpoint, guards and (optionally) the metadata router. */
async function localService(options: { metadata: boolean }) {
  let handler: RequestListener | undefined;
  const http = await listen((req, res) => (handler as RequestListener)(req, res));
  const { dir, cleanup } = tempDir();
  const resource = `${http.url}/items`;
  const oauth = createOAuth({ issuer: http.url, audience: resource, database: `${dir}/oauth.sqlite`, bcryptCost: 4, logger: memoryLogger() });
  cleanups.push(cleanup, () => oauth.close(), () => http.close());
  const app = express();
  app.use(oauth.tokenRouter());
  if (options.metadata) app.use(oauth.resourceMetadataRouter());
  app.get('/items', oauth.requireScope('read'), (_req, res) => res.json({ items: [] }));
  app.post('/items', oauth.requireScope('write', { allowBodyToken: true }), (_req, res) => res.status(201).end());
  app.get('/admin', oauth.requireScope('admin', { audience: 'https://elsewhere.example' }), (_req, res) => res.end());
  app.use(oauthErrorHandler());
  handler = app;
  return { http, oauth, resource };
}

describe('protected resource metadata of a local instance (RFC 9728)', () => {
  it('serves the document at the path-aware well-known URL with the scopes its guards require (RFC 9728 §3.1, §2)', async () => {
    const { http, resource } = await localService({ metadata: true });
    const res = await request(http.url).get('/.well-known/oauth-protected-resource/items');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({
      resource,
      authorization_servers: [http.url],
      scopes_supported: ['read', 'write'],
      bearer_methods_supported: ['header', 'body'],
    });
    expect((await request(http.url).get('/.well-known/oauth-protected-resource')).status).toBe(404);
  });

  it('names resource_metadata in the 401 challenge, and a client follows it to the document (RFC 9728 §5.1, §3.3)', async () => {
    const { http, resource } = await localService({ metadata: true });
    const denied = await fetch(resource);
    expect(denied.status).toBe(401);
    const challenge = denied.headers.get('www-authenticate');
    expect(challenge).toBe(`Bearer realm="oauth", resource_metadata="${http.url}/.well-known/oauth-protected-resource/items"`);
    const metadataUrl = resourceMetadataFromChallenge(challenge);
    const meta = await fetchProtectedResourceMetadata(resource, { metadataUrl });
    expect(meta.authorizationServers).toEqual([http.url]);
    expect(meta.scopesSupported).toEqual(['read', 'write']);
  });

  it('names it in invalid_token and insufficient_scope challenges too (RFC 6750 §3, RFC 9728 §5.1)', async () => {
    const { http, oauth } = await localService({ metadata: true });
    const { client, clientSecret } = await oauth.registry.create({ name: 'c', scopes: 'read' });
    const token = (await request(http.url).post('/oauth/token').auth(client.id, clientSecret).type('form').send({ grant_type: 'client_credentials' }))
      .body.access_token as string;
    const forbidden = await request(http.url).post('/items').set('Authorization', `Bearer ${token}`);
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers['www-authenticate']).toContain(`resource_metadata="${http.url}/.well-known/oauth-protected-resource/items"`);
    const bad = await request(http.url).get('/items').set('Authorization', 'Bearer not.a.token');
    expect(bad.headers['www-authenticate']).toMatch(/error="invalid_token".*resource_metadata=/);
  });

  it('leaves resource_metadata out while no metadata router publishes the guard\'s resource', async () => {
    const { http } = await localService({ metadata: false });
    const res = await request(http.url).get('/items');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="oauth"');
    const published = await localService({ metadata: true });
    // A guard for another audience on the same instance names no document: none describes its resource.
    expect((await request(published.http.url).get('/admin')).headers['www-authenticate']).toBe('Bearer realm="oauth"');
  });

  it('refuses bad options when the router is built, not on a request', () => {
    const { dir, cleanup } = tempDir();
    const oauth = createOAuth({ issuer: 'https://auth.example', database: `${dir}/o.sqlite`, logger: memoryLogger() });
    cleanups.push(cleanup, () => oauth.close());
    expect(() => oauth.resourceMetadataRouter({ resource: 'http://api.example/items' })).toThrow(TypeError);
    expect(() => oauth.resourceMetadataRouter({ resource: 'https://api.example/items#x' })).toThrow(TypeError);
    expect(() => oauth.resourceMetadataRouter({ authorizationServers: ['nope'] })).toThrow(TypeError);
    expect(() => oauth.resourceMetadataRouter({ additionalMetadata: { resource: 'https://x.example' } })).toThrow(/computed/);
    expect(() => oauth.resourceMetadataRouter({ scopesSupported: ['bad scope"'] })).toThrow(TypeError);
  });

  it('takes explicit scopes and additional members (RFC 9728 §2 resource_name)', async () => {
    const { dir, cleanup } = tempDir();
    const oauth = createOAuth({ issuer: 'https://auth.example', database: `${dir}/o.sqlite`, logger: memoryLogger() });
    cleanups.push(cleanup, () => oauth.close());
    const app = express().use(
      oauth.resourceMetadataRouter({ resource: 'https://api.example', scopesSupported: ['a', 'b'], additionalMetadata: { resource_name: 'API' } }),
    );
    const res = await request(app).get('/.well-known/oauth-protected-resource');
    expect(res.body).toEqual({
      resource: 'https://api.example',
      authorization_servers: ['https://auth.example'],
      scopes_supported: ['a', 'b'],
      bearer_methods_supported: ['header'],
      resource_name: 'API',
    });
  });
});

describe('protected resource metadata of a resource server (RFC 9728)', () => {
  it('serves the document of a remote-guarded resource and names it in challenges, on loopback', async () => {
    const iss = await startIssuer();
    cleanups.push(() => iss.close());
    let handler: RequestListener | undefined;
    const http = await listen((req, res) => (handler as RequestListener)(req, res));
    cleanups.push(() => http.close());
    const resource = `${http.url}/orders`;
    const rs = createResourceServer({ issuer: iss.issuer, audience: resource, logger: memoryLogger() });
    cleanups.push(() => rs.close());
    const app = express();
    app.use(rs.resourceMetadataRouter());
    app.get('/orders', rs.requireScope('orders:read'), (_req, res) => res.json([]));
    app.delete('/orders/:id', rs.requireScope.any('orders:admin', 'orders:write'), (_req, res) => res.end());
    app.use(oauthErrorHandler());
    handler = app;

    const denied = await fetch(resource);
    expect(denied.status).toBe(401);
    const metadataUrl = resourceMetadataFromChallenge(denied.headers.get('www-authenticate'));
    expect(metadataUrl).toBe(`${http.url}/.well-known/oauth-protected-resource/orders`);
    const meta = await fetchProtectedResourceMetadata(resource, { metadataUrl });
    expect(meta.document).toEqual({
      resource,
      authorization_servers: [iss.issuer],
      scopes_supported: ['orders:admin', 'orders:read', 'orders:write'],
      bearer_methods_supported: ['header'],
    });
  });
});
