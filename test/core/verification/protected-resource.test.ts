// RFC 9728 in core: the path-aware well-known URL, the registry of guard declarations, the document, and the client-side checks.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ProtectedResources,
  protectedResourceMetadataPath,
  protectedResourceMetadataUrl,
} from '../../../lib/core/verification/protected-resource';
import {
  fetchProtectedResourceMetadata,
  ProtectedResourceMetadataError,
  readProtectedResourceMetadata,
  resourceMetadataFromChallenge,
} from '../../../lib/core/verification/resource-metadata';
import { bearerChallenge } from '../../../lib/core/verification/challenge';

const published = (resource: string, extra: Partial<Parameters<ProtectedResources['publish']>[0]> = {}) => ({
  resource,
  authorizationServers: ['https://auth.example'],
  scopesSupported: undefined,
  additionalMetadata: {},
  ...extra,
});

describe('protected resource metadata URL', () => {
  it('puts the well-known segment between the host and the path (RFC 9728 §3.1)', () => {
    expect(protectedResourceMetadataUrl('https://api.example/items')).toBe('https://api.example/.well-known/oauth-protected-resource/items');
    expect(protectedResourceMetadataPath('https://api.example/v1/items')).toBe('/.well-known/oauth-protected-resource/v1/items');
  });

  it('drops the terminating slash of a bare host (RFC 9728 §3.1)', () => {
    expect(protectedResourceMetadataUrl('https://api.example/')).toBe('https://api.example/.well-known/oauth-protected-resource');
    expect(protectedResourceMetadataUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080/.well-known/oauth-protected-resource');
  });
});

describe('ProtectedResources', () => {
  it('collects the scopes of the guards accepting the resource, sorted and once each (RFC 9728 §2 scopes_supported)', () => {
    const resources = new ProtectedResources();
    resources.declare({ audiences: ['https://api.example/items'], scopes: ['write', 'read'], allowBodyToken: false });
    resources.declare({ audiences: ['https://api.example/items', 'https://other.example'], scopes: ['read'], allowBodyToken: false });
    resources.declare({ audiences: ['https://other.example'], scopes: ['admin'], allowBodyToken: true });
    resources.publish(published('https://api.example/items'));
    expect(resources.document('https://api.example/items')).toEqual({
      resource: 'https://api.example/items',
      authorization_servers: ['https://auth.example'],
      scopes_supported: ['read', 'write'],
      bearer_methods_supported: ['header'],
    });
  });

  it('lists body among the bearer methods only when a guard of the resource reads form bodies (RFC 6750 §2.2)', () => {
    const resources = new ProtectedResources();
    resources.declare({ audiences: ['https://api.example'], scopes: ['read'], allowBodyToken: true });
    expect(resources.bearerMethodsFor('https://api.example')).toEqual(['header', 'body']);
    expect(resources.bearerMethodsFor('https://else.example')).toEqual(['header']);
  });

  it('names the metadata URL only for guards whose audience is published (RFC 9728 §5.1)', () => {
    const resources = new ProtectedResources();
    expect(resources.metadataUrlFor(['https://api.example/items'])).toBeUndefined();
    resources.publish(published('https://api.example/items'));
    expect(resources.metadataUrlFor(['https://x.example', 'https://api.example/items'])).toBe(
      'https://api.example/.well-known/oauth-protected-resource/items',
    );
    expect(() => resources.publish(published('https://api.example/items'))).toThrow(TypeError);
  });

  it('adds the members of contributors (the extension point for DPoP) but never lets them replace computed ones', () => {
    const resources = new ProtectedResources();
    resources.publish(published('https://api.example', { additionalMetadata: { resource_name: 'Items' } }));
    const before = resources.documentJson('https://api.example');
    resources.contribute(() => ({ dpop_bound_access_tokens_required: true, resource: 'https://evil.example' }));
    const after = JSON.parse(resources.documentJson('https://api.example') as string);
    expect(after).toMatchObject({ resource: 'https://api.example', resource_name: 'Items', dpop_bound_access_tokens_required: true });
    expect(JSON.parse(before as string).dpop_bound_access_tokens_required).toBeUndefined();
  });
});

describe('reading protected resource metadata (client side)', () => {
  it('refuses a document naming another resource (RFC 9728 §3.3)', () => {
    expect(() => readProtectedResourceMetadata({ resource: 'https://api.example/other' }, 'https://api.example/items')).toThrow(
      ProtectedResourceMetadataError,
    );
    expect(() => readProtectedResourceMetadata(['x'], 'https://api.example/items')).toThrow(ProtectedResourceMetadataError);
  });

  it('refuses malformed members (RFC 9728 §2)', () => {
    const resource = 'https://api.example';
    expect(() => readProtectedResourceMetadata({ resource, authorization_servers: 'https://auth.example' }, resource)).toThrow(/array of strings/);
    expect(() => readProtectedResourceMetadata({ resource, authorization_servers: ['not a url'] }, resource)).toThrow(/issuer URLs/);
    expect(() => readProtectedResourceMetadata({ resource, scopes_supported: [1] }, resource)).toThrow(/scopes_supported/);
  });

  it('reads resource_metadata from a Bearer challenge, unescaping the quoted string (RFC 9728 §5.1, RFC 7230 §3.2.6)', () => {
    const url = 'https://api.example/.well-known/oauth-protected-resource/items';
    expect(resourceMetadataFromChallenge(bearerChallenge({ realm: 'r', error: 'invalid_token', description: 'x', resourceMetadata: url }))).toBe(url);
    expect(resourceMetadataFromChallenge(`Basic realm="a", Bearer realm="b", resource_metadata="${url}"`)).toBe(url);
    expect(resourceMetadataFromChallenge(`Bearer realm="b", Basic resource_metadata="${url}"`)).toBeUndefined();
    expect(resourceMetadataFromChallenge('Bearer realm="b"')).toBeUndefined();
    expect(resourceMetadataFromChallenge(undefined)).toBeUndefined();
  });

  it('fetches the document from the well-known URL of the resource and checks it (RFC 9728 §3.1, §3.3), on loopback', async () => {
    const documents = new Map<string, unknown>();
    const server = createServer((req, res) => {
      const doc = documents.get(req.url ?? '');
      if (doc === undefined) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      documents.set('/.well-known/oauth-protected-resource/items', { resource: `${base}/items`, authorization_servers: ['https://auth.example'] });
      documents.set('/.well-known/oauth-protected-resource/liar', { resource: `${base}/items`, authorization_servers: [] });
      const meta = await fetchProtectedResourceMetadata(`${base}/items`);
      expect(meta.authorizationServers).toEqual(['https://auth.example']);
      await expect(fetchProtectedResourceMetadata(`${base}/liar`)).rejects.toThrow(/"resource" property does not match/);
      await expect(fetchProtectedResourceMetadata(`${base}/missing`)).rejects.toThrow(ProtectedResourceMetadataError);
      // Through a challenge's URL, the document must still name exactly the resource asked about (RFC 9728 §3.3).
      await expect(
        fetchProtectedResourceMetadata(`${base}/other`, { metadataUrl: `${base}/.well-known/oauth-protected-resource/items` }),
      ).rejects.toThrow(ProtectedResourceMetadataError);
      await expect(fetchProtectedResourceMetadata('http://example.com/items')).rejects.toThrow(ProtectedResourceMetadataError);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
