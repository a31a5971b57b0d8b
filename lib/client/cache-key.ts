// The token client's cache key: a normalized scope set (RFC 6749 §3.3) plus resource indicators (RFC 8707), so different requests never share a token.

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** What one token is asked for: the scopes (sorted, no duplicates) and the resources (sorted, no duplicates). */
export interface TokenRequestShape {
  scopes: readonly string[];
  resources: readonly string[];
  /** The cache key: equal for equal shapes, different otherwise. */
  key: string;
}

/**
 * Scope values as a sorted set. Accepts a space-separated string (`'read write'`) or a list; the
 * order and repetition of scopes never change which token is meant (RFC 6749 §3.3: the scope is a set).
 *
 * @throws TypeError for a value that is not a valid scope token.
 */
export function normalizeScopes(scope: string | readonly string[] | undefined): string[] {
  if (scope === undefined) return [];
  const parts = (typeof scope === 'string' ? [scope] : [...scope]).flatMap((s) => {
    if (typeof s !== 'string') throw new TypeError('scope must be a string or a list of strings');
    return s.split(' ').filter((p) => p !== '');
  });
  for (const part of parts) {
    if (!SCOPE_TOKEN.test(part)) throw new TypeError(`invalid scope ${JSON.stringify(part)} (RFC 6749 §3.3)`);
  }
  return [...new Set(parts)].sort();
}

/**
 * Resource indicators as a sorted set. RFC 8707 §2: each is an absolute URI without a fragment.
 *
 * @throws TypeError for a value that is not one.
 */
export function normalizeResources(resource: string | readonly string[] | undefined): string[] {
  if (resource === undefined) return [];
  const list = typeof resource === 'string' ? [resource] : [...resource];
  for (const r of list) {
    let url: URL;
    try {
      url = new URL(r);
    } catch {
      throw new TypeError(`resource must be an absolute URI (RFC 8707 §2), not ${JSON.stringify(r)}`);
    }
    if (url.hash !== '' || r.includes('#')) throw new TypeError(`resource must not have a fragment (RFC 8707 §2): ${JSON.stringify(r)}`);
  }
  return [...new Set(list)].sort();
}

/** The shape and cache key of a token request. */
export function tokenRequestShape(
  scope: string | readonly string[] | undefined,
  resource: string | readonly string[] | undefined,
): TokenRequestShape {
  const scopes = normalizeScopes(scope);
  const resources = normalizeResources(resource);
  // JSON of two arrays: no separator inside a scope or URI can make two shapes collide.
  return { scopes, resources, key: JSON.stringify([scopes, resources]) };
}
