// Scheduled signing key rotation: an unref'd timer that publishes the next key ahead of use, then promotes it once the active key has served its period.
import type { RotationState } from './keyring';

/** The longest the schedule sleeps between two looks at the keys. */
const CHECK_EVERY_MS = 60 * 60 * 1000;
/** The wait before trying again after a failed publication or promotion (a busy database, say). */
const RETRY_AFTER_MS = 60 * 1000;

/** When a scheduled rotation happens. Milliseconds. */
export interface RotationTiming {
  /** How long a key signs before the next one takes over. */
  periodMs: number;
  /** How long before it signs the next key is in the JWKS: at least what resource servers cache the JWKS for. */
  publishAheadMs: number;
  /** How late another instance on the store may see the publication (its `syncInterval`): added to the lead. */
  syncLagMs: number;
}

/** What the schedule does to the keys (the authorization server's methods, so audit events follow). */
export interface RotationActions {
  state(): Promise<RotationState>;
  /** Publishes a new next key signing from `activateAt`. */
  publishNext(activateAt: number): Promise<unknown>;
  /** Promotes the next key, whose `activateAt` has come. */
  promote(): Promise<unknown>;
}

/**
 * Rotates the signing key every `periodMs`, in two steps so no resource server ever meets an unknown
 * `kid`: `publishAheadMs` before the active key's period ends, a new key is published (JWKS) as the
 * next key; at its `activateAt` it starts signing (each instance switches by its own clock) and the
 * schedule promotes it in the store, where the previous key loses its private half and stays
 * published until its tokens have expired. Every instance on a database may run one: publication
 * and promotion are compare-and-set in the store, so one instance does each and the others see it
 * through the change feed.
 */
export class KeyRotationSchedule {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = true;

  constructor(
    private readonly timing: RotationTiming,
    private readonly actions: RotationActions,
    private readonly now: () => number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Starts the timer: a first look at once, then at the next thing due (at most an hour apart). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.arm(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Publishes or promotes whatever is due, and resolves in how many ms something next falls due
   * (capped at an hour). The timer calls this; tests may too.
   */
  async check(): Promise<number> {
    if (this.running) return CHECK_EVERY_MS;
    this.running = true;
    try {
      return await this.step();
    } catch (err) {
      this.onError(err);
      return RETRY_AFTER_MS;
    } finally {
      this.running = false;
    }
  }

  private async step(): Promise<number> {
    const { periodMs, publishAheadMs, syncLagMs } = this.timing;
    let { active, next } = await this.actions.state();
    // No key yet: the first token request makes one, and its period starts then.
    if (!active) return CHECK_EVERY_MS;
    const now = this.now();
    if (next && next.activateAt <= now) {
      await this.actions.promote();
      ({ active, next } = await this.actions.state());
      if (!active) return CHECK_EVERY_MS;
    }
    if (next) return next.activateAt - now;
    const publishAt = active.since + periodMs - publishAheadMs;
    if (now < publishAt) return publishAt - now;
    // Never sooner than the lead after publication, whatever the period says: a late check (the
    // process was down) delays the rotation rather than shortening the time the key is published.
    await this.actions.publishNext(Math.max(active.since + periodMs, now + publishAheadMs + syncLagMs));
    const after = await this.actions.state();
    return after.next ? after.next.activateAt - this.now() : RETRY_AFTER_MS;
  }

  private arm(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      // At least a second apart: a clock that disagrees with the store cannot make it spin.
      void this.check().then((due) => this.arm(Math.min(CHECK_EVERY_MS, Math.max(1000, due))));
    }, delayMs);
    this.timer.unref();
  }
}
