// Operator token administration (CLI and admin API): revoke any client's token by jti, list a client's live reference tokens.
import type { ClientStore, StoredReferenceToken, TokenStore } from '../../store/types';
import type { AuditRecorder } from '../model/events';
import { RegistryError } from './registry';

/** A live reference token as an operator sees it: its id and claims, never the token or its hash. */
export interface ReferenceTokenView {
  jti: string;
  client_id: string;
  scope: string;
  aud: string | string[];
  /** ISO 8601 (UTC). */
  issued_at: string;
  expires_at: string;
}

/** Builds the view field by field, so the stored hash never leaks. */
export function referenceTokenView(token: StoredReferenceToken): ReferenceTokenView {
  return {
    jti: token.jti,
    client_id: token.clientId,
    scope: token.claims.scope,
    aud: token.claims.aud,
    issued_at: new Date(token.claims.iat * 1000).toISOString(),
    expires_at: new Date(token.expiresAt).toISOString(),
  };
}

/** A jti as this issuer makes them (printable ASCII, bounded), so garbage never reaches the store. */
function validJti(jti: unknown): string {
  if (typeof jti !== 'string' || !/^[\x21-\x7E]{1,200}$/.test(jti)) {
    throw new RegistryError('invalid', 'jti must be 1 to 200 visible ASCII characters', 'jti');
  }
  return jti;
}

/**
 * What an operator does with tokens. Only the owning client may revoke through RFC 7009; an
 * operator (a leaked token reported by jti, say) revokes here, for any client.
 */
export class TokenAdmin {
  constructor(
    private readonly store: ClientStore & TokenStore,
    private readonly options: {
      now: () => number;
      /**
       * How long a JWT revoked by jti alone stays on the list (ms): the longest a token of this issuer
       * may live plus the verifiers' clock tolerance. A stored reference token's own expiry is used instead.
       */
      keepRevokedJwtMs: number;
      /** Verifiers' clock tolerance in ms, added to a reference token's expiry. */
      clockToleranceMs: number;
    },
    private readonly events?: AuditRecorder,
  ) {}

  /** The same object recording its audit events to `events` (e.g. `server.events.as(actor)`). */
  recordingTo(events: AuditRecorder): TokenAdmin {
    return new TokenAdmin(this.store, this.options, events);
  }

  /** The client's unexpired reference tokens, soonest to expire first, at most `limit`. */
  async liveTokens(clientId: string, limit = 100): Promise<ReferenceTokenView[]> {
    await this.clientMustExist(clientId);
    const tokens = await this.store.listReferenceTokens(clientId, this.options.now(), limit);
    return tokens.map(referenceTokenView);
  }

  /**
   * Revokes the token `jti` of `clientId`, JWT or reference token. Resolves false when it was
   * revoked already. A reference token of another client is refused (`invalid`, field `jti`).
   */
  async revoke(clientId: string, jti: string): Promise<boolean> {
    validJti(jti);
    await this.clientMustExist(clientId);
    const now = this.options.now();
    const reference = await this.store.findReferenceTokenByJti(jti, now);
    if (reference && reference.clientId !== clientId) {
      throw new RegistryError('invalid', 'no live token with this jti belongs to this client', 'jti');
    }
    const keepUntil = reference ? reference.expiresAt + this.options.clockToleranceMs : now + this.options.keepRevokedJwtMs;
    const revoked = await this.store.revokeToken({ jti, clientId, expiresAt: keepUntil }, now);
    if (revoked) this.events?.record('token.revoked', { clientId, jti, expiresAt: keepUntil });
    return revoked;
  }

  private async clientMustExist(clientId: string): Promise<void> {
    if (!(await this.store.getClient(clientId))) {
      throw new RegistryError('not_found', `no client with id ${JSON.stringify(clientId)}`, 'client_id');
    }
  }
}
