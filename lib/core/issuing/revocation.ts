// Revocation state held in memory (revoked jtis, disabled or deleted clients, tokens_not_before), so guards check it with no query per request.
import { Reloader } from './reloader';
import { issuedAtMs } from './issuance-time';
import type { ClientStatus, ClientStore, StoreChange, TokenStore } from '../../store/types';

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
  /** Deltas applied while a load is running, applied again on top of what it read. */
  private duringLoad: StoreChange[] | undefined;
  /** Moves on every client delta, so a look-up that started before it does not store a stale status. */
  private generation = 0;
  /** Size of the revoked map after its last sweep of expired entries; deltas sweep when it doubles. */
  private sweptSize = 0;

  constructor(
    private readonly store: TokenStore & Pick<ClientStore, 'getClient'>,
    private readonly now: () => number,
    /** Told when a reload failed and the last snapshot (with every delta since) is still in use. */
    private readonly onStale: (err: unknown) => void = () => undefined,
  ) {}

  /** Makes the next check reload the snapshot. */
  invalidate(): void {
    this.snapshot.invalidate();
  }

  /**
   * Applies a store change: a revocation adds its jti, a client change forgets that client's status
   * (the next check of its tokens looks it up once), `all` reloads; other changes void nothing.
   * Nothing here grows with the registry.
   */
  apply(change: StoreChange): void {
    switch (change.kind) {
      case 'revoked':
        this.revoked.set(change.jti, change.expiresAt);
        this.sweepExpired();
        break;
      case 'client':
        this.generation++;
        this.clients.delete(change.id);
        this.unknown.delete(change.id);
        break;
      case 'all':
        this.invalidate();
        return;
      default:
        return;
    }
    this.duringLoad?.push(change);
  }

  /** Drops revocations of expired tokens once the map has doubled since the last sweep: amortized O(1) per delta. */
  private sweepExpired(): void {
    if (this.revoked.size < Math.max(1024, this.sweptSize * 2)) return;
    const now = this.now();
    for (const [jti, expiresAt] of this.revoked) if (expiresAt <= now) this.revoked.delete(jti);
    this.sweptSize = this.revoked.size;
  }

  /**
   * {@link voidReason} without waiting: the reason, undefined while the token is good, or null when
   * that cannot be told from memory now (the snapshot must be reloaded, or the client is not in it).
   * Lets a guard answer a cached token with no promise in between.
   */
  knownVoidReason(claims: RevocableClaims): string | undefined | null {
    if (this.snapshot.stale) return null;
    const client = this.clients.get(typeof claims.client_id === 'string' ? claims.client_id : claims.sub);
    if (!client) return null;
    return this.reasonFor(claims, client);
  }

  private reasonFor(claims: RevocableClaims, client: ClientStatus): string | undefined {
    const revokedUntil = this.revoked.get(claims.jti);
    if (revokedUntil !== undefined && revokedUntil > this.now()) return 'the access token was revoked';
    if (!client.enabled) return 'the client of this access token is disabled';
    // Compared to the millisecond (see issuance-time.ts): a token issued before the cut is void even
    // in the cut's own second, and one fetched right after a revoke-and-rotate stays good. A token
    // can only have been issued at or after the start of its iat's second, so a cut no later than that
    // spares it without reading the jti (the usual case: no cut since the token was issued).
    if (client.tokensNotBefore > claims.iat * 1000 && issuedAtMs(claims) < client.tokensNotBefore) return 'the access token was revoked';
    return undefined;
  }

  /** Why a verified token is void, or undefined while it is still good. */
  async voidReason(claims: RevocableClaims): Promise<string | undefined> {
    // With the database down, the last snapshot plus the deltas heard since is the best knowledge
    // there is: keep checking against it rather than failing every guarded request.
    await this.snapshot.freshOrLast(this.onStale);
    const revokedUntil = this.revoked.get(claims.jti);
    if (revokedUntil !== undefined && revokedUntil > this.now()) return 'the access token was revoked';
    const clientId = typeof claims.client_id === 'string' ? claims.client_id : claims.sub;
    const client = this.clients.get(clientId) ?? (await this.lookUp(clientId));
    if (!client) return 'the client of this access token no longer exists';
    return this.reasonFor(claims, client);
  }

  /** A client created after the last snapshot (another instance may have issued its token already). */
  private async lookUp(clientId: string): Promise<ClientStatus | undefined> {
    if (this.unknown.has(clientId)) return undefined;
    const generation = this.generation;
    const client = await this.store.getClient(clientId);
    // A change to some client arrived meanwhile: answer from what was read, but keep nothing.
    if (generation !== this.generation) {
      return client && { id: client.id, enabled: client.enabled, tokensNotBefore: client.tokensNotBefore };
    }
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
    const deltas: StoreChange[] = [];
    this.duringLoad = deltas;
    try {
      const [revoked, clients] = await Promise.all([this.store.listRevokedTokens(now), this.store.listClientStatuses()]);
      this.revoked = new Map(revoked.map((r) => [r.jti, r.expiresAt]));
      this.sweptSize = this.revoked.size;
      this.clients = new Map(clients.map((c) => [c.id, c]));
      this.unknown = new Set();
    } finally {
      this.duringLoad = undefined;
    }
    // A delta that arrived while the reads ran may be newer than what they saw.
    for (const change of deltas) this.apply(change);
  }
}
