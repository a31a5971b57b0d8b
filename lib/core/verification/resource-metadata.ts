// The client side of RFC 9728: fetch a protected resource's metadata, check it names the resource asked about (§3.3), and read resource_metadata from a challenge (§5.1).

/** The RFC 9728 §2 members a client uses; the rest of the document is kept in `document`. */
export interface ProtectedResourceMetadata {
  resource: string;
  /** Issuer identifiers of the authorization servers that issue tokens for this resource (may be empty). */
  authorizationServers: string[];
  scopesSupported: string[] | undefined;
  bearerMethodsSupported: string[] | undefined;
  /** The whole document as received. */
  document: Record<string, unknown>;
}

/** Options of {@link fetchProtectedResourceMetadata}. */
export interface FetchProtectedResourceMetadataOptions {
  /**
   * Where to fetch: the `resource_metadata` URL of a challenge (RFC 9728 §5.1). Default: the
   * well-known URL of `resource` (RFC 9728 §3.1).
   */
  metadataUrl?: string;
  /** Milliseconds before the request gives up. Default 5000. */
  timeout?: number;
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof fetch;
}

/** Why a metadata document was refused; never used half-checked. */
export class ProtectedResourceMetadataError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProtectedResourceMetadataError';
  }
}

function stringArray(value: unknown, name: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new ProtectedResourceMetadataError(`${name} must be an array of strings (RFC 9728 §2)`);
  }
  return [...(value as string[])];
}

/**
 * Checks a metadata document against the resource it was fetched for. RFC 9728 §3.3: `resource`
 * must be identical to the resource identifier the URL was built from (or, when the URL came from a
 * challenge, to the URL the client requested), else the document must not be used.
 */
export function readProtectedResourceMetadata(body: unknown, resource: string): ProtectedResourceMetadata {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ProtectedResourceMetadataError('the protected resource metadata is not a JSON object');
  }
  const doc = body as Record<string, unknown>;
  if (doc.resource !== resource) {
    throw new ProtectedResourceMetadataError(`the protected resource metadata names another resource than ${resource} (RFC 9728 §3.3)`);
  }
  const authorizationServers = stringArray(doc.authorization_servers, 'authorization_servers') ?? [];
  for (const server of authorizationServers) {
    let url: URL;
    try {
      url = new URL(server);
    } catch (err) {
      throw new ProtectedResourceMetadataError('authorization_servers must hold issuer URLs', { cause: err });
    }
    if (url.search !== '' || url.hash !== '') throw new ProtectedResourceMetadataError('an issuer identifier has no query or fragment (RFC 8414 §2)');
  }
  return {
    resource,
    authorizationServers,
    scopesSupported: stringArray(doc.scopes_supported, 'scopes_supported'),
    bearerMethodsSupported: stringArray(doc.bearer_methods_supported, 'bearer_methods_supported'),
    document: doc,
  };
}

/** RFC 8414 §2 / RFC 9728 §1.2: plain http only for loopback development. */
function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/**
 * Fetches and checks the RFC 9728 metadata of `resource`. The request and the §3.3 check (the
 * document's `resource` is the one asked about) are oauth4webapi's (`resourceDiscoveryRequest`,
 * `processResourceDiscoveryResponse`), loaded on first call so a server that never calls this never
 * loads it; on top, `resource` must match exactly and the members this library reads must have
 * their RFC 9728 §2 types. Rejects with {@link ProtectedResourceMetadataError}. Plain http is
 * accepted only for loopback hosts.
 *
 * @example
 * // Discover the authorization server of a resource before asking it for a token:
 * const meta = await fetchProtectedResourceMetadata('https://api.example/items');
 * const issuer = meta.authorizationServers[0];
 * // After a 401 whose WWW-Authenticate names resource_metadata (RFC 9728 §5.1):
 * const url = resourceMetadataFromChallenge(res.headers.get('www-authenticate'));
 * if (url) await fetchProtectedResourceMetadata(requestedUrl, { metadataUrl: url });
 */
export async function fetchProtectedResourceMetadata(
  resource: string,
  options: FetchProtectedResourceMetadataOptions = {},
): Promise<ProtectedResourceMetadata> {
  let expected: URL;
  try {
    expected = new URL(resource);
  } catch (err) {
    throw new ProtectedResourceMetadataError('the resource identifier must be an absolute URL (RFC 9728 §1.2)', { cause: err });
  }
  const oauth = await import('oauth4webapi');
  const signal = AbortSignal.timeout(options.timeout ?? 5000);
  const doFetch = options.fetch ?? fetch;
  let document: unknown;
  try {
    let response: Response;
    if (options.metadataUrl !== undefined) {
      const url = new URL(options.metadataUrl);
      if (url.protocol !== 'https:' && !isLoopbackHttp(url)) throw new TypeError('the metadata URL must use https');
      response = await doFetch(url.href, { signal, headers: { accept: 'application/json' }, redirect: 'manual' });
    } else {
      response = await oauth.resourceDiscoveryRequest(expected, {
        signal,
        [oauth.allowInsecureRequests]: isLoopbackHttp(expected),
        [oauth.customFetch]: (url: string, init: RequestInit) => doFetch(url, init),
      });
    }
    document = await oauth.processResourceDiscoveryResponse(expected, response);
  } catch (err) {
    const detail = err instanceof Error ? `: ${err.message}` : '';
    throw new ProtectedResourceMetadataError(`the protected resource metadata of ${resource} could not be used${detail}`, { cause: err });
  }
  return readProtectedResourceMetadata(document, resource);
}

/** RFC 7235 §2.1 auth-param (`name=token` or `name="quoted string"`), anchored where the scan stands. */
const AUTH_PARAM = /[\s,]*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([!#$%&'*+.^_`|~0-9A-Za-z-]+))/y;

/**
 * The `resource_metadata` URL of a Bearer challenge (RFC 9728 §5.1), or undefined when the
 * `WWW-Authenticate` value has no Bearer challenge naming one.
 *
 * @example
 * resourceMetadataFromChallenge('Bearer realm="api", resource_metadata="https://api.example/.well-known/oauth-protected-resource/items"');
 * // → 'https://api.example/.well-known/oauth-protected-resource/items'
 */
export function resourceMetadataFromChallenge(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const bearer = /(?:^|,)\s*Bearer(?=\s|,|$)/i.exec(header);
  if (!bearer) return undefined;
  AUTH_PARAM.lastIndex = bearer.index + bearer[0].length;
  // The Bearer challenge's parameters run until something that is no auth-param: the next scheme.
  for (let match = AUTH_PARAM.exec(header); match; match = AUTH_PARAM.exec(header)) {
    if (match[1]?.toLowerCase() === 'resource_metadata') return match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3];
  }
  return undefined;
}
