// In-memory state loaded from the store once and reused until marked stale: concurrent reloads share one load, a failed load leaves it stale.

/**
 * Guards a load function for a snapshot held in memory (the key ring, the revocation state).
 * `invalidate()` marks it stale (on a store change); `reload()` runs `load` at most once at a time;
 * an invalidation during a load is kept, so the next use loads again.
 */
export class Reloader {
  private isStale = true;
  private loading: Promise<void> | undefined;
  /** Whether a load ever succeeded: then there is a snapshot to fall back on. */
  private loadedOnce = false;
  private lastFailure = -Infinity;

  constructor(
    private readonly load: () => Promise<void>,
    /** How long (ms) {@link freshOrLast} serves the last snapshot after a failed load before trying again. */
    private readonly retryAfterFailureMs = 1000,
  ) {}

  /** Whether the next use must reload. */
  get stale(): boolean {
    return this.isStale;
  }

  invalidate(): void {
    this.isStale = true;
  }

  /** Loads now (joining a load already under way). */
  reload(): Promise<void> {
    this.loading ??= (async () => {
      try {
        this.isStale = false;
        await this.load();
        this.loadedOnce = true;
      } catch (err) {
        this.isStale = true;
        throw err;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /** Reloads only when stale. */
  async fresh(): Promise<void> {
    if (this.isStale) await this.reload();
  }

  /**
   * Like {@link fresh}, but when the reload fails (the database is down) and an earlier load
   * succeeded, keeps serving that snapshot, reports the error, and tries again at most once per
   * `retryAfterFailureMs`, so requests neither fail nor each wait for a dead database. Only the
   * first load's failure is thrown.
   */
  async freshOrLast(onError: (err: unknown) => void): Promise<void> {
    if (!this.isStale) return;
    if (this.loadedOnce && Date.now() - this.lastFailure < this.retryAfterFailureMs) return;
    try {
      await this.reload();
    } catch (err) {
      if (!this.loadedOnce) throw err;
      this.lastFailure = Date.now();
      onError(err);
    }
  }
}
