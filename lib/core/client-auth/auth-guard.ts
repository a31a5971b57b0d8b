// Abuse limits around client authentication: failure counters first, then the bounded bcrypt gate, with audit events for every refusal.
import { InvalidClientError, TemporarilyUnavailableError, TooManyAttemptsError } from '../model/errors';
import { AuthLimiter, type AuthAttempt, type AuthLimits } from './auth-limiter';
import type { AuditEmitter } from '../model/events';
import { withBcryptGate } from './bcrypt-gate';
import { auditableClientId } from './secrets';
import { GateFullError, WorkGate } from './work-gate';

export type { AuthAttempt } from './auth-limiter';

/** Limits of {@link ClientAuthGuard}. */
export interface AuthGuardLimits extends AuthLimits {
  maxConcurrentAuthentications: number;
  maxQueuedAuthentications: number;
}

/** Seconds a client refused by a full gate is told to wait: one bcrypt round at most, rounded up. */
const BUSY_RETRY_AFTER_SECONDS = 1;

/**
 * Wraps every client authentication of an instance. Refuses (429, no bcrypt) an attempt whose
 * address or client id failed too often, runs the rest through a {@link WorkGate} (503 at once when
 * full; attempts from a pair that authenticated before go first), and counts the outcome.
 *
 * @example
 * const client = await server.authGuard.run({ clientId, address: req.ip }, () => server.authenticateClient(clientId, secret));
 */
export class ClientAuthGuard {
  readonly limiter: AuthLimiter;
  readonly gate: WorkGate;

  constructor(
    limits: AuthGuardLimits,
    private readonly events: AuditEmitter,
    now: () => number = Date.now,
  ) {
    this.limiter = new AuthLimiter(limits, now);
    this.gate = new WorkGate(limits.maxConcurrentAuthentications, limits.maxQueuedAuthentications);
  }

  /**
   * Runs `authenticate` for `attempt` within the limits. An {@link InvalidClientError} from it counts
   * as a failure; a resolved value marks the (client, address) pair as trusted. `provesSecret`, asked
   * only when a limit would refuse, lets through a caller this process has already seen present the
   * very secret (a remembered verification): neighbours' failures behind a shared address, or an
   * attacker hammering the id, must not lock out the client that holds the secret.
   */
  async run<T>(attempt: AuthAttempt, authenticate: () => Promise<T>, provesSecret?: () => Promise<boolean>): Promise<T> {
    let refusal = await this.limiter.check(attempt);
    if (refusal && provesSecret && (await provesSecret())) refusal = undefined;
    if (refusal) {
      this.events.record('rate_limit.hit', {
        limit: refusal.limit,
        ...attempt,
        clientId: auditableClientId(attempt.clientId),
        retryAfter: refusal.retryAfterSeconds,
      });
      throw new TooManyAttemptsError(
        `too many failed client authentications from this ${refusal.limit === 'address' ? 'address' : 'client_id'}; retry after ${refusal.retryAfterSeconds} s`,
        refusal.retryAfterSeconds,
      );
    }
    let result: T;
    try {
      const trusted = this.limiter.isTrusted(attempt);
      // Only bcrypt takes a slot (see withBcryptGate): a remembered secret never waits for one.
      result = await withBcryptGate((job) => this.gate.run(job, trusted), authenticate);
    } catch (err: unknown) {
      if (err instanceof GateFullError) {
        this.events.record('rate_limit.hit', {
          limit: 'concurrency',
          ...attempt,
          clientId: auditableClientId(attempt.clientId),
          retryAfter: BUSY_RETRY_AFTER_SECONDS,
        });
        throw new TemporarilyUnavailableError('the server is busy authenticating other clients; retry shortly', BUSY_RETRY_AFTER_SECONDS);
      }
      if (err instanceof InvalidClientError) await this.limiter.failure(attempt);
      throw err;
    }
    this.limiter.success(attempt);
    return result;
  }
}
