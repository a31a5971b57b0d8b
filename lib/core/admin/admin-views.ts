// What an administrator sees of clients and groups (admin API, CLI --json): plain JSON, never a secret or a hash.
import type { Client } from '../model/client';
import type { Group } from '../model/group';
import { formatScope } from '../model/scope';

/** One secret a client accepts, described without its hash. */
export interface SecretView {
  /** `current` is the newest secret; `previous` is the one in its grace period after a rotation. */
  status: 'current' | 'previous';
  created_at: string;
  /** When it stops being accepted; `null` for the current secret. */
  expires_at: string | null;
}

/** A client as the admin API and the CLI's `--json` show it (RFC 7591 metadata names where they exist). Times are ISO 8601 (UTC). */
export interface ClientView {
  client_id: string;
  client_name: string;
  /** Scopes given to the client directly (space-delimited, RFC 6749 §3.3). */
  scope: string;
  /** What the client may request: its own scopes plus its groups'. */
  effective_scope: string;
  audiences: string[];
  effective_audiences: string[];
  groups: string[];
  grant_types: string[];
  token_format: string;
  /** Free text for people; '' when none. */
  description: string;
  /** Lifetime of its tokens in seconds, capped by the instance's; `null`: the instance's accessTokenLifetime. */
  token_lifetime: number | null;
  enabled: boolean;
  /** The secrets accepted now, current first. */
  secrets: SecretView[];
  /** RFC 7591 §2: the public keys of a `private_key_jwt` client, inline or by URL; null when none. */
  jwks: { keys: Record<string, unknown>[] } | null;
  jwks_uri: string | null;
  /** RFC 9449 §5.2. */
  dpop_bound_access_tokens: boolean;
  version: number;
  created_at: string;
  updated_at: string;
}

/** A group as the admin API returns it. */
export interface GroupView {
  name: string;
  scope: string;
  audiences: string[];
  /** Ids of the member clients. */
  members: string[];
  /** Moves with every change to the group (scopes, audiences, members); its ETag. */
  version: number;
  created_at: string;
  updated_at: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The secrets a client accepts at `now` (an expired one may linger in storage until the next rotation). */
export function secretViews(client: Client, now: number): SecretView[] {
  return client.secrets
    .filter((s) => s.expiresAt === null || s.expiresAt > now)
    .map((s) => ({
      status: s.expiresAt === null ? 'current' : 'previous',
      created_at: iso(s.createdAt),
      expires_at: s.expiresAt === null ? null : iso(s.expiresAt),
    }));
}

/** Builds the view field by field, so a field added to {@link Client} (a hash, say) never leaks by default. */
export function clientView(client: Client, now: number): ClientView {
  return {
    client_id: client.id,
    client_name: client.name,
    scope: formatScope(client.scopes),
    effective_scope: formatScope(client.effectiveScopes),
    audiences: [...client.audiences],
    effective_audiences: [...client.effectiveAudiences],
    groups: [...client.groups],
    grant_types: [...client.grantTypes],
    token_format: client.tokenFormat,
    description: client.description,
    token_lifetime: client.tokenLifetime,
    enabled: client.enabled,
    secrets: secretViews(client, now),
    jwks: client.jwks ? { keys: client.jwks.keys.map((k) => ({ ...k })) } : null,
    jwks_uri: client.jwksUri ?? null,
    dpop_bound_access_tokens: client.requireDpop ?? false,
    version: client.version,
    created_at: iso(client.createdAt),
    updated_at: iso(client.updatedAt),
  };
}

export function groupView(group: Group): GroupView {
  return {
    name: group.name,
    scope: formatScope(group.scopes),
    audiences: [...group.audiences],
    members: [...group.members],
    version: group.version,
    created_at: iso(group.createdAt),
    updated_at: iso(group.updatedAt),
  };
}
