// In-memory state loaded from the store once and reused until marked stale: concurrent reloads share one load, a failed load leaves it stale.

/**
 * Guards a load function for a snapshot held in memory (the key ring, the revocation state).
 * `invalidate()` marks it stale (on a store change); `reload()` runs `load` at most once at a time;
 * an invalidation during a load is kept, so the next use loads again.
 */
export class Reloader {
  private isStale = true;
  private loading: Promise<void> | undefined;

  constructor(private readonly load: () => Promise<void>) {}

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
}
