// Audit events: a typed EventEmitter for what an operator wants to see. Never a secret or a token in them.
import { RecordingEmitter } from './recording-emitter';

/** Payloads of every audit event, by name. Times are epoch milliseconds. */
export interface AuditEvents {
  /** An access token was issued. */
  'token.issued': { clientId: string; scopes: string[]; audience: string | string[]; jti: string; expiresAt: number };
  /** Client authentication at the token endpoint failed. */
  /** `detail`: why a client assertion was rejected (private_key_jwt), for the operator; the response never says. */
  'client.authentication_failed': { clientId: string | undefined; reason: string; address: string | undefined; detail?: string };
  /** `groups` only when the client was created with some. */
  'client.created': { clientId: string; name: string; scopes: string[]; groups?: string[] };
  /**
   * One event per administrative request: every field it changed; `enabled` when that changed too;
   * `before` and `after` hold the old and new value of each changed field (never a secret).
   */
  'client.updated': {
    clientId: string;
    changes: string[];
    enabled?: boolean;
    before?: Record<string, unknown>;
    after?: Record<string, unknown>;
  };
  'client.disabled': { clientId: string };
  'client.enabled': { clientId: string };
  'client.deleted': { clientId: string };
  'client.secret_rotated': { clientId: string; previousValidUntil: number | null; tokensRevoked: boolean };
  /** An access token was revoked: by the client it was issued to (RFC 7009), or by an operator (then the event has an `actor`). */
  'token.revoked': { clientId: string; jti: string; expiresAt: number };
  /** A signing key was published ahead of use (scheduled rotation, `key rotate --publish-ahead`): it signs from `activateAt`. */
  'key.published': { kid: string; activateAt: number; scheduled: boolean };
  /** A new signing key became active; the previous one stays published until `previousRetireAt`. */
  'key.rotated': { kid: string; previousKid: string | undefined; previousRetireAt: number; scheduled: boolean };
  /** A signing key was taken out of service at once (`key retire`): tokens it signed stop verifying. */
  'key.retired': { kid: string };
  /**
   * A client authentication was refused before its secret was compared: the address or the claimed
   * client id failed too often (429), or too many authentications were already waiting (503).
   * `retryAfter` is in seconds. At most one event per second is recorded for each limit and key (the
   * address; the claimed client id for `client`): `suppressed`, when present, counts the refusals of
   * that key left unrecorded since its previous event.
   */
  'rate_limit.hit': {
    limit: 'address' | 'client' | 'concurrency';
    clientId: string | undefined;
    address: string | undefined;
    retryAfter: number;
    suppressed?: number;
  };
  'group.created': { group: string; scopes: string[]; audiences: string[] };
  /** `before` and `after`: the old and new value of each changed field. */
  'group.updated': { group: string; changes: string[]; members: string[]; before?: Record<string, unknown>; after?: Record<string, unknown> };
  /** `members` lists the clients that lost the group (only a forced delete has any). */
  'group.deleted': { group: string; members: string[] };
  'client.group_added': { clientId: string; group: string };
  'client.group_removed': { clientId: string; group: string };
}

export type AuditEventName = keyof AuditEvents;

/**
 * Who made an administrative change: an admin API call (the admin client's id and the caller's
 * address) or the CLI (the operating-system user running it). Never a secret or a token.
 */
export type AuditActor =
  | { via: 'admin_api'; clientId: string | undefined; address: string | undefined }
  | { via: 'cli'; user: string | undefined };

/**
 * Every event also carries its name and time, so one listener can log them all as JSON lines;
 * changes made through the admin API or the CLI carry their `actor`.
 */
export type AuditEvent<K extends AuditEventName = AuditEventName> = AuditEvents[K] & { type: K; time: number; actor?: AuditActor };

/** What records audit events: the {@link AuditEmitter} itself, or a view of it that names the actor. */
export interface AuditRecorder {
  record<K extends AuditEventName>(name: K, payload: AuditEvents[K]): void;
}

/**
 * The instance's audit event bus. Listen to one event by name, or to `'audit'` for all of them.
 * A listener that throws is reported to `onListenerError`; it never breaks the request that emitted.
 *
 * @example
 * oauth.events.on('audit', (event) => console.log(JSON.stringify(event)));
 */
export class AuditEmitter extends RecordingEmitter<AuditEvents> {
  constructor(now: () => number, onListenerError: (err: unknown) => void = () => undefined) {
    super('audit', now, onListenerError);
  }

  /**
   * A recorder that adds `actor` to every event it records, for the changes of one admin request
   * or one CLI run.
   *
   * @example
   * registry.as(events.as({ via: 'cli', user: 'alice' })).delete(id);
   */
  as(actor: AuditActor): AuditRecorder {
    return {
      record: (name, payload) => this.record(name, { ...payload, actor } as typeof payload),
    };
  }
}
