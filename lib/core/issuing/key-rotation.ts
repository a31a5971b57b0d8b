// Scheduled signing key rotation: an unref'd timer that rotates once the active key is older than the configured age.

/** How often the schedule looks at the active key's age. */
const CHECK_EVERY_MS = 60 * 60 * 1000;

/**
 * Rotates when the active key is `maxAgeMs` old. Every instance on a database may run one: the
 * store's compare-and-set rotation lets only the first rotate, and the others see the new key.
 */
export class KeyRotationSchedule {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly maxAgeMs: number,
    private readonly activeKeyCreatedAt: () => Promise<number | undefined>,
    private readonly rotate: () => Promise<unknown>,
    private readonly now: () => number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), Math.min(CHECK_EVERY_MS, this.maxAgeMs));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Rotates if the active key is due; the timer calls this, tests may too. */
  async check(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const createdAt = await this.activeKeyCreatedAt();
      if (createdAt !== undefined && this.now() - createdAt >= this.maxAgeMs) await this.rotate();
    } catch (err) {
      this.onError(err);
    } finally {
      this.running = false;
    }
  }
}
