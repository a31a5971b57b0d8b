// Change propagation: listeners hear at once of changes made through this process or pushed by the store, and within one poll interval of any other.
import type { ChangeFeed, StoreChange } from '../../store/types';

/**
 * Watches a store's {@link ChangeFeed}. Changes the feed announces (this process's own, and for a
 * store that pushes them, every instance's) reach listeners as deltas at once; changes it cannot
 * announce (the CLI on a SQLite file, a lost notification) are found by polling on an unref'd
 * timer, every `intervalMs` or the feed's own slower `pollInterval`: a feed with `catchUp()` (SQLite's
 * change log) announces them as deltas; otherwise a moved `revision()` is announced as `{ kind: 'all' }`. Announced changes that carry their revision without a gap move the baseline,
 * so the poll does not announce again what listeners already applied.
 */
export class ChangeWatcher {
  private readonly listeners = new Set<(change: StoreChange) => void>();
  private timer: NodeJS.Timeout | undefined;
  private lastRevision: number | undefined;
  private polling = false;
  private lastPolledAt: number | undefined;
  private readonly unsubscribe: () => void;
  private readonly intervalMs: number;

  constructor(
    private readonly feed: ChangeFeed,
    intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {
    this.intervalMs = feed.pollInterval ?? intervalMs;
    // A local change without a revision is also seen by the next poll; the second announcement costs
    // one cache reload and keeps a remote change made in between from being missed.
    this.unsubscribe = feed.onChange((change) => this.received(change));
  }

  /** Registers a listener; returns a function that removes it. Starts polling on first use. */
  subscribe(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener);
    this.start();
    return () => this.listeners.delete(listener);
  }

  /**
   * Whether listeners have now heard of every change committed so far by any process, as the feed
   * can tell synchronously (see ChangeFeed.syncNow); false when it cannot, or before the first listener.
   */
  inSync(): boolean {
    return this.timer !== undefined && this.feed.syncNow !== undefined && this.feed.syncNow();
  }

  /** Checks the revision now (the timer does this every interval). */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      if (this.feed.catchUp) {
        // The store announces what changed elsewhere as deltas, through onChange.
        await this.feed.catchUp();
      } else {
        const revision = await this.feed.revision();
        if (this.lastRevision !== undefined && revision !== this.lastRevision) this.emit({ kind: 'all' });
        this.lastRevision = revision;
      }
      this.lastPolledAt = Date.now();
    } catch (err) {
      this.onError(err);
    } finally {
      this.polling = false;
    }
  }

  /**
   * Wall-clock ms of the last successful poll, or undefined before one. Now minus this bounds how
   * late this process may see a change another process made (the change feed carries no timestamps).
   */
  get lastSuccessfulPoll(): number | undefined {
    return this.lastPolledAt;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe();
    this.listeners.clear();
  }

  private received(change: StoreChange): void {
    // Only a gapless revision moves the baseline: anything else leaves it to the poll, whose extra
    // announcement costs a reload but never hides a change.
    if (change.revision !== undefined && this.lastRevision !== undefined && change.revision === this.lastRevision + 1) {
      this.lastRevision = change.revision;
    }
    this.emit(change);
  }

  private start(): void {
    if (this.timer) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  private emit(change: StoreChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
