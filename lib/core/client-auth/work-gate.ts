// A concurrency gate for costly work (bcrypt): a fixed number of tasks in flight, a bounded fair queue (round robin over addresses), and a refusal at once beyond it.
import { performance } from 'node:perf_hooks';
import { FairQueue, type FlowKey } from './fair-queue';

/** Thrown by {@link WorkGate.run} when every slot is busy and the queue is full. */
export class GateFullError extends Error {
  constructor() {
    super('too much work is waiting');
    this.name = 'GateFullError';
  }
}

interface Waiter {
  start: () => void;
  refuse: (err: Error) => void;
}

/** The flow of work that names no address or client id (a caller outside a request): one flow of its own. */
const NO_FLOW: FlowKey = { address: '', clientId: '' };

/**
 * Runs at most `maxInFlight` tasks at once; up to `maxQueued` more wait, priority tasks in a lane of
 * their own served first; anything beyond that is refused with {@link GateFullError} without waiting,
 * so a flood turns into fast refusals instead of a growing backlog.
 *
 * The ordinary lane is a {@link FairQueue}: tasks are served round robin over the addresses they came
 * from (then over the client ids they claim), so a request from a new address waits behind at most one
 * task per other address, never behind a whole flood; when it is full, a newcomer displaces the newest
 * task of the address with the most in flight rather than being refused, so the floods are what is shed.
 *
 * Why not p-limit / p-queue: neither refuses when its queue is full (they queue without bound) nor
 * queues fairly per key.
 */
export class WorkGate {
  private inFlight = 0;
  private readonly urgent: (Waiter & { flow: FlowKey })[] = [];
  private readonly normal: FairQueue<Waiter>;
  private readonly waitListeners = new Set<(waitedMs: number) => void>();

  constructor(
    readonly maxInFlight: number,
    readonly maxQueued: number,
  ) {
    this.normal = new FairQueue(maxQueued);
  }

  /** Tasks running now. */
  get running(): number {
    return this.inFlight;
  }

  /** Tasks waiting now. */
  get waiting(): number {
    return this.urgent.length + this.normal.size;
  }

  /** Calls `listener` with how long (ms, monotonic clock) each admitted task waited for its slot (0 when one was free). Returns an unsubscribe function. */
  onWait(listener: (waitedMs: number) => void): () => void {
    this.waitListeners.add(listener);
    return () => this.waitListeners.delete(listener);
  }

  /**
   * Runs `task` when a slot is free. A priority task waits in its own lane, served first, that has
   * room for `maxQueued` too, so refusals of ordinary work never reach it. An ordinary task waits its
   * turn in `flow` (the request's address and claimed client id); it may be refused with
   * {@link GateFullError} while waiting, when a newcomer from a lighter address takes its place.
   */
  async run<T>(task: () => Promise<T>, priority = false, flow: FlowKey = NO_FLOW): Promise<T> {
    if (this.inFlight >= this.maxInFlight) {
      const queuedAt = performance.now();
      if (priority) {
        if (this.urgent.length >= this.maxQueued) throw new GateFullError();
        await new Promise<void>((start, refuse) => this.urgent.push({ start, refuse, flow }));
        this.normal.began(flow.address);
      } else {
        // FairQueue.next() counts the task as running for its address when it hands it the slot.
        await new Promise<void>((start, refuse) => {
          const offer = this.normal.offer(flow, { start, refuse });
          if (!offer.queued) refuse(new GateFullError());
          else offer.shed?.refuse(new GateFullError());
        });
      }
      this.reportWait(performance.now() - queuedAt);
    } else {
      this.inFlight++;
      this.normal.began(flow.address);
      this.reportWait(0);
    }
    try {
      return await task();
    } finally {
      this.normal.ended(flow.address);
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
    const next = this.urgent.shift() ?? this.normal.next();
    if (next) next.start();
    else this.inFlight--;
  }
}
