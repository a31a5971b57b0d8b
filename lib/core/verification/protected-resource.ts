// RFC 9728 protected resource metadata: the well-known URL of a resource, what the guards in front of it declare, and the document built from both.

/** RFC 9728 §3: the well-known URI suffix registered for protected resource metadata. */
export const PROTECTED_RESOURCE_WELL_KNOWN = '/.well-known/oauth-protected-resource';

/** RFC 9728 §2 `bearer_methods_supported` values (RFC 6750 §2.1, §2.2; the URI query is never accepted here). */
export type BearerMethod = 'header' | 'body';

/** Members a guard brings to its resources' metadata, registered when the guard is defined. */
export interface GuardDeclaration {
  /** The audiences the guard accepts: each one is a resource the guard protects. */
  audiences: readonly string[];
  /** The scopes the guard requires (all or any of them). */
  scopes: readonly string[];
  /** Whether the guard reads a token from a form body (RFC 6750 §2.2). */
  allowBodyToken: boolean;
}

/**
 * Adds members to every protected resource metadata document: the extension point for features that
 * publish their own metadata (DPoP's `dpop_signing_alg_values_supported` and
 * `dpop_bound_access_tokens_required`, RFC 9728 §2). Called with the resource identifier.
 */
export type MetadataContributor = (resource: string) => Readonly<Record<string, unknown>>;

/** What a published document says besides what the guards declared. */
export interface PublishedResource {
  resource: string;
  authorizationServers: readonly string[];
  /** Overrides the scopes collected from the guards. */
  scopesSupported: readonly string[] | undefined;
  /** Further RFC 9728 §2 members (`resource_name`, `resource_documentation`, ...). */
  additionalMetadata: Readonly<Record<string, unknown>>;
}

/** Members the library computes; `additionalMetadata` and contributors may not replace them. */
export const COMPUTED_MEMBERS = ['resource', 'authorization_servers', 'scopes_supported', 'bearer_methods_supported'] as const;

/**
 * RFC 9728 §3.1: the metadata URL of `resource`: the well-known segment goes between the host and the
 * resource's path (`https://api.example/items` → `https://api.example/.well-known/oauth-protected-resource/items`);
 * the slash of a bare host is dropped first.
 */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  return `${url.origin}${protectedResourceMetadataPath(resource)}${url.search}`;
}

/** The path part of {@link protectedResourceMetadataUrl}: where a router mounted at the origin's root serves it. */
export function protectedResourceMetadataPath(resource: string): string {
  const { pathname } = new URL(resource);
  return PROTECTED_RESOURCE_WELL_KNOWN + (pathname === '/' ? '' : pathname);
}

/**
 * The protected resources of one instance (or one resource server): every guard declares what it
 * accepts when its route is defined, and a metadata router publishes a resource. Guards ask it which
 * metadata URL their challenges should name (RFC 9728 §5.1). Bounded by the number of routes.
 */
export class ProtectedResources {
  private readonly guards: GuardDeclaration[] = [];
  private readonly published = new Map<string, PublishedResource>();
  private readonly contributors: MetadataContributor[] = [];
  /** Bumped on every change, so a rendered document is rebuilt only when something changed. */
  private revision = 0;
  private readonly rendered = new Map<string, { revision: number; body: string }>();

  /** Registers a guard (called once per `requireScope()`, when the route is defined). */
  declare(guard: GuardDeclaration): void {
    this.guards.push({ audiences: [...guard.audiences], scopes: [...guard.scopes], allowBodyToken: guard.allowBodyToken });
    this.revision++;
  }

  /** Registers a {@link MetadataContributor}; its members appear in every document from now on. */
  contribute(contributor: MetadataContributor): void {
    this.contributors.push(contributor);
    this.revision++;
  }

  /** Publishes `resource`'s metadata; returns its URL. A resource is published once per instance. */
  publish(published: PublishedResource): string {
    if (this.published.has(published.resource)) {
      throw new TypeError(`the metadata of ${published.resource} is already published by this instance`);
    }
    this.published.set(published.resource, published);
    this.revision++;
    return protectedResourceMetadataUrl(published.resource);
  }

  /** The metadata URL a guard accepting `audiences` names in its challenges: its first published audience's. */
  metadataUrlFor(audiences: readonly string[]): string | undefined {
    for (const audience of audiences) {
      if (this.published.has(audience)) return protectedResourceMetadataUrl(audience);
    }
    return undefined;
  }

  /** Scopes the guards of `resource` require, sorted, each once. */
  scopesFor(resource: string): string[] {
    const scopes = new Set<string>();
    for (const guard of this.guards) if (guard.audiences.includes(resource)) for (const s of guard.scopes) scopes.add(s);
    return [...scopes].sort();
  }

  /** RFC 9728 §2 `bearer_methods_supported`: `header` always, `body` when a guard of `resource` reads form bodies. */
  bearerMethodsFor(resource: string): BearerMethod[] {
    const body = this.guards.some((g) => g.allowBodyToken && g.audiences.includes(resource));
    return body ? ['header', 'body'] : ['header'];
  }

  /** The RFC 9728 §2 document of a published resource, as JSON text (rebuilt only after a change). */
  documentJson(resource: string): string | undefined {
    const cached = this.rendered.get(resource);
    if (cached && cached.revision === this.revision) return cached.body;
    const document = this.document(resource);
    if (!document) return undefined;
    const body = JSON.stringify(document);
    this.rendered.set(resource, { revision: this.revision, body });
    return body;
  }

  /** The RFC 9728 §2 document of a published resource. */
  document(resource: string): Record<string, unknown> | undefined {
    const published = this.published.get(resource);
    if (!published) return undefined;
    const scopes = published.scopesSupported ? [...published.scopesSupported] : this.scopesFor(resource);
    const extensions: Record<string, unknown> = { ...published.additionalMetadata };
    for (const contributor of this.contributors) Object.assign(extensions, withoutComputedMembers(contributor(resource)));
    return {
      resource,
      authorization_servers: [...published.authorizationServers],
      ...(scopes.length > 0 ? { scopes_supported: scopes } : {}),
      bearer_methods_supported: this.bearerMethodsFor(resource),
      ...extensions,
    };
  }
}

function withoutComputedMembers(members: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...members };
  for (const name of COMPUTED_MEMBERS) delete copy[name];
  return copy;
}

const registries = new WeakMap<object, ProtectedResources>();

/** The registry attached to `owner` (an authorization server or a resource server), created on first use. */
export function protectedResourcesOf(owner: object): ProtectedResources {
  let registry = registries.get(owner);
  if (!registry) registries.set(owner, (registry = new ProtectedResources()));
  return registry;
}
