// A concurrency gate for costly work (bcrypt): a fixed number of tasks in flight, a bounded queue, and a refusal at once beyond it.
import { performance } from 'node:perf_hooks';

/** Thrown by {@link WorkGate.run} when every slot is busy and the queue is full. */
export class GateFullError extends Error {
  constructor() {
    super('too much work is waiting');
    this.name = 'GateFullError';
  }
}

interface Waiter {
  start: () => void;
}

/**
 * Runs at most `maxInFlight` tasks at once; up to `maxQueued` more wait in line, priority tasks
 * ahead of the others; anything beyond that is refused with {@link GateFullError} without waiting,
 * so a flood turns into fast refusals instead of a growing backlog.
 *
 * Why not p-limit / p-queue: neither refuses when its queue is full (they queue without bound), and
 * the two-lane priority is a dozen lines.
 */
export class WorkGate {
  private inFlight = 0;
  private readonly urgent: Waiter[] = [];
  private readonly normal: Waiter[] = [];
  private readonly waitListeners = new Set<(waitedMs: number) => void>();

  constructor(
    readonly maxInFlight: number,
    readonly maxQueued: number,
  ) {}

  /** Tasks running now. */
  get running(): number {
    return this.inFlight;
  }

  /** Tasks waiting now. */
  get waiting(): number {
    return this.urgent.length + this.normal.length;
  }

  /** Calls `listener` with how long (ms, monotonic clock) each admitted task waited for its slot (0 when one was free). Returns an unsubscribe function. */
  onWait(listener: (waitedMs: number) => void): () => void {
    this.waitListeners.add(listener);
    return () => this.waitListeners.delete(listener);
  }

  /**
   * Runs `task` when a slot is free. A priority task waits in its own lane, served first, that
   * has room for `maxQueued` too, so refusals of ordinary work never reach it.
   */
  async run<T>(task: () => Promise<T>, priority = false): Promise<T> {
    if (this.inFlight >= this.maxInFlight) {
      const lane = priority ? this.urgent : this.normal;
      if (lane.length >= this.maxQueued) throw new GateFullError();
      const queuedAt = performance.now();
      await new Promise<void>((start) => lane.push({ start }));
      this.reportWait(performance.now() - queuedAt);
    } else {
      this.inFlight++;
      this.reportWait(0);
    }
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private reportWait(waitedMs: number): void {
    for (const listener of this.waitListeners) {
      try {
        listener(waitedMs);
      } catch {
        // A metrics listener must never fail the authentication it measures.
      }
    }
  }

  /** Hands the slot straight to the next waiter (so the count never dips and lets a newcomer jump the line). */
  private release(): void {
    const next = this.urgent.shift() ?? this.normal.shift();
    if (next) next.start();
    else this.inFlight--;
  }
}
