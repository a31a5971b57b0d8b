// Readiness checks without any framework: each one named, bounded in time, reported as ok or failed (never with the error's text).

/** One readiness check: resolves when the dependency is usable, rejects otherwise. */
export interface HealthCheck {
  name: string;
  check(): Promise<unknown>;
}

/** The outcome of every check; `ready` when all passed. */
export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, 'ok' | 'failed'>;
}

class CheckTimeoutError extends Error {
  constructor(name: string, ms: number) {
    super(`the ${name} check took longer than ${ms} ms`);
    this.name = 'CheckTimeoutError';
  }
}

function bounded(check: HealthCheck, timeoutMs: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeoutError(check.name, timeoutMs)), timeoutMs);
    timer.unref();
  });
  return Promise.race([Promise.resolve().then(() => check.check()), timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs every check at once, each bounded by `timeoutMs` (a hung database must not hang the probe).
 * `onFailure` hears of each failure with its error, for the log; the report itself carries no detail.
 */
export async function checkReadiness(
  checks: readonly HealthCheck[],
  timeoutMs: number,
  onFailure: (name: string, err: unknown) => void = () => undefined,
): Promise<ReadinessReport> {
  const outcomes = await Promise.allSettled(checks.map((c) => bounded(c, timeoutMs)));
  const report: ReadinessReport = { ready: true, checks: {} };
  outcomes.forEach((outcome, i) => {
    const name = (checks[i] as HealthCheck).name;
    if (outcome.status === 'fulfilled') {
      report.checks[name] = 'ok';
    } else {
      report.ready = false;
      report.checks[name] = 'failed';
      onFailure(name, outcome.reason);
    }
  });
  return report;
}
