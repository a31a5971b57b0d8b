// Revocation state held in memory (revoked jtis, disabled or deleted clients, tokens_not_before), so guards check it with no query per request.
import { Reloader } from './reloader';
import { issuedAtMs } from './issuance-time';
import type { ClientStatus, ClientStore, TokenStore } from '../../store/types';

/** Most client ids remembered as unknown between two reloads (ids only reach here in validly signed tokens). */
const MAX_UNKNOWN = 10_000;

/** The claims the revocation check reads. */
export interface RevocableClaims {
  jti: string;
  client_id?: unknown;
  sub: string;
  /** Seconds. */
  iat: number;
}

/**
 * A snapshot of everything that can void a token before its `exp`. It is loaded once, marked stale
 * by the ChangeWatcher (at once for this process's changes, within `syncInterval` for others'), and
 * reloaded by the next check; between changes a check is a few map look-ups.
 */
export class RevocationState {
  private revoked = new Map<string, number>();
  private clients = new Map<string, ClientStatus>();
  private unknown = new Set<string>();
  private readonly snapshot = new Reloader(() => this.load());

  constructor(
    private readonly store: TokenStore & Pick<ClientStore, 'getClient'>,
    private readonly now: () => number,
  ) {}

  /** Makes the next check reload the snapshot. */
  invalidate(): void {
    this.snapshot.invalidate();
  }

  /** Why a verified token is void, or undefined while it is still good. */
  async voidReason(claims: RevocableClaims): Promise<string | undefined> {
    await this.snapshot.fresh();
    const revokedUntil = this.revoked.get(claims.jti);
    if (revokedUntil !== undefined && revokedUntil > this.now()) return 'the access token was revoked';
    const clientId = typeof claims.client_id === 'string' ? claims.client_id : claims.sub;
    const client = this.clients.get(clientId) ?? (await this.lookUp(clientId));
    if (!client) return 'the client of this access token no longer exists';
    if (!client.enabled) return 'the client of this access token is disabled';
    // Compared to the millisecond (see issuance-time.ts): a token issued before the cut is void even
    // in the cut's own second, and one fetched right after a revoke-and-rotate stays good.
    if (issuedAtMs(claims) < client.tokensNotBefore) return 'the access token was revoked';
    return undefined;
  }

  /** A client created after the last snapshot (another instance may have issued its token already). */
  private async lookUp(clientId: string): Promise<ClientStatus | undefined> {
    if (this.unknown.has(clientId)) return undefined;
    const client = await this.store.getClient(clientId);
    if (!client) {
      if (this.unknown.size >= MAX_UNKNOWN) this.unknown.clear();
      this.unknown.add(clientId);
      return undefined;
    }
    const status = { id: client.id, enabled: client.enabled, tokensNotBefore: client.tokensNotBefore };
    this.clients.set(client.id, status);
    return status;
  }

  private async load(): Promise<void> {
    const now = this.now();
    const [revoked, clients] = await Promise.all([this.store.listRevokedTokens(now), this.store.listClientStatuses()]);
    this.revoked = new Map(revoked.map((r) => [r.jti, r.expiresAt]));
    this.clients = new Map(clients.map((c) => [c.id, c]));
    this.unknown = new Set();
  }
}
