// A counting gate: at most N async jobs of one kind in flight, the rest wait in arrival order.

/**
 * Limits how many jobs run at once. bcrypt runs on libuv's thread pool (4 threads by default), the
 * same pool that signs tokens; a burst of bcrypt comparisons (first contacts, or guesses at secrets)
 * holding every thread would make returning clients' signatures wait ~50 ms each behind them.
 */
export class ConcurrencyGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
