// Change propagation: listeners hear at once of changes made through this process, and within one poll interval of changes made by any other.
import type { ChangeFeed } from '../../store/types';

/**
 * Watches a store's {@link ChangeFeed}. Changes made through this process's store object are
 * announced synchronously; changes made elsewhere (the CLI, another instance on the same database)
 * are found by polling `revision()` every `intervalMs` on an unref'd timer, so it never keeps a
 * process alive.
 */
export class ChangeWatcher {
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private lastRevision: number | undefined;
  private polling = false;
  private lastPolledAt: number | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly feed: ChangeFeed,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {
    // A local change is also seen by the next poll; the second announcement costs one cache reload
    // and keeps a remote change made in between from being missed.
    this.unsubscribe = feed.onChange(() => this.emit());
  }

  /** Registers a listener; returns a function that removes it. Starts polling on first use. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    this.start();
    return () => this.listeners.delete(listener);
  }

  /** Checks the revision now (the timer does this every interval). */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const revision = await this.feed.revision();
      if (this.lastRevision !== undefined && revision !== this.lastRevision) this.emit();
      this.lastRevision = revision;
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

  private start(): void {
    if (this.timer) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}
