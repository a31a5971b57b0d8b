// The delayed refusal (a tarpit, as express-slow-down does): a refused request is answered after a delay, so each connection of a flood sends about one attempt per delay; bounded in how many are held.
/** One refusal being held: its timer and how to send it. */
interface Held {
  timer: NodeJS.Timeout;
  send: () => void;
}

/**
 * Holds refusals by a failure limit for `delayMs` (never longer than their Retry-After) before they
 * are sent. A closed-loop flooder then spends its connections waiting, not the server's CPU: 32
 * connections send 32 refused attempts a second with a 1 s delay instead of thousands. At most
 * `maxHeld` are held at once; beyond that a refusal is sent at once, so memory stays bounded (an
 * attacker with more connections than the bound gets immediate refusals, at their plain cost).
 * Timers never keep the process alive; {@link releaseAll} sends every held refusal at once (on close),
 * and the canceller {@link hold} returns drops one whose client went away.
 */
export class RefusalTarpit {
  private readonly held = new Set<Held>();

  constructor(
    /** Milliseconds; 0 turns the tarpit off. */
    private readonly delayMs: number,
    private readonly maxHeld: number,
  ) {}

  /**
   * Sends the refusal after the delay (bounded by `retryAfterSeconds`) and returns a canceller (the
   * client went away: nothing is sent); returns undefined, having sent nothing, when the tarpit is off
   * or full: the caller sends at once.
   */
  hold(retryAfterSeconds: number, send: () => void): (() => void) | undefined {
    const ms = Math.min(this.delayMs, retryAfterSeconds * 1000);
    if (ms <= 0 || this.held.size >= this.maxHeld) return undefined;
    const entry: Held = {
      send,
      timer: setTimeout(() => this.settle(entry, true), ms),
    };
    entry.timer.unref();
    this.held.add(entry);
    return () => this.settle(entry, false);
  }

  /** Sends every held refusal now (the server is closing). */
  releaseAll(): void {
    for (const entry of [...this.held]) this.settle(entry, true);
  }

  /** Refusals held now. */
  get size(): number {
    return this.held.size;
  }

  private settle(entry: Held, send: boolean): void {
    if (!this.held.delete(entry)) return;
    clearTimeout(entry.timer);
    if (send) entry.send();
  }
}
