// ClientAuthenticator: the one client-authentication path of the token, introspection and revocation endpoints (RFC 6749 §2.3): one method per request, failure limits, the bcrypt gate, remembered secrets.
import {
  InvalidClientError,
  InvalidRequestError,
  TemporarilyUnavailableError,
  TooManyAttemptsError,
  UnauthorizedClientError,
} from '../model/errors';
import type { AuditEmitter } from '../model/events';
import { hasCredentials, type Client } from '../model/client';
import type { ClientStore } from '../../store/types';
import { FailureLimiter, type AuthAttempt, type FailureLimits, type Refusal } from './failure-limits';
import { RefusalEvents } from './refusal-events';
import { RefusalTarpit } from './refusal-tarpit';
import { SharedFailureLimiter, type SharedLimitsBackend } from './shared-failure-limits';
import type { ClientAuthMethod, ClientAuthRequest, ClientCredential, SecretCheck, VerifyOutcome } from './methods';
import { auditableClientId, MAX_CLIENT_ID_LENGTH } from './secrets';
import { GateFullError, WorkGate } from './work-gate';

/** Limits of a {@link ClientAuthenticator}: the failure counters and the gate for costly checks. */
export interface AuthenticatorLimits extends FailureLimits {
  /** Client verifications (bcrypt) in flight at once; a client in a grace period compares its two hashes within one. */
  maxConcurrentAuthentications: number;
  /** Verifications waiting for a slot (per lane); beyond them, 503 at once. */
  maxQueuedAuthentications: number;
  /** Count the failure limits in Redis, shared by every instance (see {@link SharedFailureLimiter}). */
  limiterStore?: SharedLimitsBackend | undefined;
  /** Milliseconds a refusal by a failure limit is held before it is sent (bounded by its Retry-After); 0: at once. */
  refusalDelay: number;
  /** Refusals held at once; beyond them a refusal is sent at once. */
  maxDelayedRefusals: number;
}

/** Where a request came from, as the failure limits and audit events need it. */
export interface ClientAuthContext {
  /**
   * The address the request came from, taken when it started (the Express adapter takes it before the
   * body is read: a reset connection has none later). Undefined: the attempt is refused unevaluated.
   */
  address: string | undefined;
}

/** Seconds a client refused by a full gate is told to wait: one bcrypt round at most, rounded up. */
const BUSY_RETRY_AFTER_SECONDS = 1;
/** Every failed verification says the same, whatever went wrong, so the answer reveals nothing. */
const FAILED = 'client authentication failed';

/**
 * Authenticates the client of a request, in this order (node-oidc-provider's `shared/client_auth.js`
 * is the model): which methods the request uses (two are `invalid_request`, RFC 6749 §2.3; none is
 * `invalid_client`, or `unauthorized_client` for a public client); the one method reads its credential,
 * once; a client id longer than any this library generates is refused before it is counted; the failure
 * limits charge the attempt (or refuse it, 429), unless the secret is one this process already verified
 * for the client as it is now, which is a success with nothing charged;
 * the client is read from the store and the method checks the credential — for free when it recalls it,
 * else within one slot of the bounded gate (503 at once when full; pairs that authenticated before wait
 * in a lane of their own); a success gives the charge back. Every `invalid_client` is recorded as a
 * `client.authentication_failed` audit event here, and every refusal by a limit as `rate_limit.hit`.
 *
 * The Express adapter calls {@link select}, then runs the Passport strategy of the chosen method, which
 * calls {@link read} and hands the credential with the request to its verify callback (`passReqToCallback`),
 * which calls {@link authenticate}; {@link authenticateRequest} is the same path without Passport.
 */
export class ClientAuthenticator {
  /** This instance's in-memory failure limits: the only ones, or the insurance of the shared ones. */
  readonly limiter: FailureLimiter;
  /** The failure limits shared through Redis (`limiterStore`), when configured. */
  readonly sharedLimiter: SharedFailureLimiter | undefined;
  readonly gate: WorkGate;
  /** Where the adapter holds refusals before sending them (`refusalDelay`). */
  readonly tarpit: RefusalTarpit;
  private readonly refusalEvents: RefusalEvents;
  private readonly methods: ReadonlyMap<string, ClientAuthMethod>;

  constructor(
    private readonly store: Pick<ClientStore, 'getClient'>,
    methods: readonly ClientAuthMethod[],
    private readonly secrets: SecretCheck,
    limits: AuthenticatorLimits,
    private readonly events: AuditEmitter,
    now: () => number,
    /** Told once per outage when the shared limits cannot be reached (the instance then counts in memory). */
    onSharedLimitsUnavailable?: (err: unknown) => void,
  ) {
    this.methods = new Map(methods.map((m) => [m.name, m]));
    this.limiter = new FailureLimiter(limits, now);
    this.sharedLimiter = limits.limiterStore
      ? new SharedFailureLimiter(limits, limits.limiterStore, this.limiter, onSharedLimitsUnavailable)
      : undefined;
    this.gate = new WorkGate(limits.maxConcurrentAuthentications, limits.maxQueuedAuthentications);
    this.tarpit = new RefusalTarpit(limits.refusalDelay, limits.maxDelayedRefusals);
    this.refusalEvents = new RefusalEvents(events, now);
  }

  /**
   * Whether the address alone is refused now (issue 16.4), asked by the adapter before it reads the
   * body: synchronous, in memory, charges nothing. With shared limits this is the in-memory limiter
   * (which counts while Redis is away) plus the refusals Redis gave this instance, mirrored for their
   * Retry-After: an address Redis refused once is then refused here without a round trip.
   */
  refusesAddress(address: string | undefined): Refusal | undefined {
    if (address === undefined || address === '') return undefined;
    return this.limiter.refusesAddress(address);
  }

  /**
   * The refusal of a request whose address is refused ({@link refusesAddress}), or undefined when the
   * request presents a credential this process remembers (one keyed hash, no store read): such a caller goes
   * on down the full path, which confirms it against its client row as before (NAT neighbours'
   * failures must not lock it out). No method, two methods or a malformed credential: refused.
   */
  refuseUnlessRemembered(refusal: Refusal, request: ClientAuthRequest, context: ClientAuthContext): TooManyAttemptsError | undefined {
    const used = [...this.methods.values()].filter((m) => m.uses(request));
    let clientId: string | undefined;
    const [method] = used;
    if (method && used.length === 1) {
      try {
        const credential = method.parse(request);
        if (method.mayRecall?.(credential)) return undefined;
        clientId = credential.clientId;
      } catch {
        // A malformed credential is refused like any other.
      }
    }
    return this.refuse(refusal, { clientId, address: context.address });
  }
  /** The method registered under `name` (RFC 8414 name). */
  method(name: string): ClientAuthMethod {
    const method = this.methods.get(name);
    if (!method) throw new TypeError(`no client authentication method ${name}`);
    return method;
  }

  /** The RFC 8414 names of the methods this authenticator accepts. */
  get methodNames(): string[] {
    return [...this.methods.keys()];
  }

  /**
   * RFC 6749 §2.3: the one method the request uses. Another `Authorization` scheme is `invalid_client`;
   * two methods are `invalid_request`; none is `invalid_client`, or `unauthorized_client` when the
   * bare `client_id` names a public client.
   */
  async select(request: ClientAuthRequest, context: ClientAuthContext): Promise<ClientAuthMethod> {
    const used = [...this.methods.values()].filter((m) => m.uses(request));
    const header = request.authorization;
    if (header !== undefined && header !== '' && !used.some((m) => m.readsAuthorizationHeader)) {
      throw this.failed('the token endpoint accepts only HTTP Basic client authentication', undefined, context);
    }
    if (used.length > 1) {
      throw new InvalidRequestError(`use either ${used[0]?.label} or ${used[1]?.label}, not both (RFC 6749 §2.3)`);
    }
    const [method] = used;
    if (method) return method;
    const clientId = request.form.client_id;
    if (clientId !== undefined && clientId.length <= MAX_CLIENT_ID_LENGTH) {
      const client = await this.store.getClient(clientId);
      if (client && !hasCredentials(client)) {
        throw new UnauthorizedClientError('public clients may not use the client_credentials grant');
      }
    }
    throw this.failed('client authentication is required', clientId, context);
  }

  /** Lets method `name` read its credential from the request (the only parse); a malformed one is `invalid_client`. */
  read(name: string, request: ClientAuthRequest, context: ClientAuthContext): ClientCredential {
    const method = this.method(name);
    try {
      return method.parse(request);
    } catch (err: unknown) {
      if (err instanceof InvalidClientError) throw this.failed(err.message, undefined, context);
      throw err;
    }
  }

  /**
   * Verifies a credential within the limits and resolves its client; rejects with InvalidClientError
   * (wrong credential), TooManyAttemptsError (429) or TemporarilyUnavailableError (503).
   */
  async authenticate(credential: ClientCredential, context: ClientAuthContext): Promise<Client> {
    const method = this.method(credential.method);
    const { clientId } = credential;
    // 10.10: an attacker-chosen string longer than any id this library generates is never counted as a key.
    if (clientId.length === 0 || clientId.length > MAX_CLIENT_ID_LENGTH) throw this.failed(FAILED, undefined, context);
    const { address } = context;
    // Issue 19: an attempt no per-address limit can hold (its address is unknown) is never evaluated.
    if (address === undefined || address === '') {
      throw new InvalidRequestError('the client address cannot be determined; the request is not evaluated');
    }
    const attempt: AuthAttempt = { clientId, address };
    // A secret this process already verified for the client as it is now proves the client whatever
    // the counters say (a refused caller presenting one is let through below as well), so it is
    // answered before the limits are charged: a returning client's request costs no counter step (with
    // shared limits, no Redis round trip) where the charge would only have been given back. The
    // pre-check is one keyed hash with no store read, so a guess is charged before anything is read.
    if (method.mayRecall?.(credential)) {
      const client = await this.store.getClient(clientId);
      if (client && method.recalls?.(credential, client)) {
        this.limiter.success(attempt);
        return client;
      }
    }
    // Checked and charged in one step (synchronous in memory, one atomic INCRBY per counter in Redis):
    // concurrent guesses cannot all pass a limit of 3.
    const charged = await (this.sharedLimiter ?? this.limiter).charge(attempt);
    if ('limit' in charged) {
      // A caller this process has already seen present this very secret is let through: neighbours'
      // failures behind a shared address, or an attacker hammering the id, must not lock it out.
      const client = method.recalls ? await this.store.getClient(clientId) : undefined;
      if (client && method.recalls?.(credential, client)) {
        this.limiter.success(attempt);
        return client;
      }
      // The shared limits' refusal is mirrored here, so the address's next requests stop before the body.
      if (this.sharedLimiter) this.limiter.mirrorRefusal(address, charged);
      throw this.refuse(charged, attempt);
    }
    let client: Client | undefined;
    let proved: VerifyOutcome;
    try {
      client = await this.store.getClient(clientId);
      if (client && method.recalls?.(credential, client)) {
        proved = true;
      } else {
        const trusted = this.limiter.isTrusted(attempt);
        // One slot for the whole check: a client in a grace period compares its two hashes side by side in it.
        let slots = 0;
        proved = await method.verify(credential, client, (job) => {
          if (++slots > 1) throw new Error('a client verification takes one gate slot');
          // The fair lane takes turns by address, then by claimed client id (issue 19).
          return this.gate.run(job, trusted, { address, clientId });
        });
      }
    } catch (err: unknown) {
      charged.refund();
      if (err instanceof GateFullError) {
        this.refusalEvents.record(address, {
          limit: 'concurrency',
          ...attempt,
          clientId: auditableClientId(clientId),
          retryAfter: BUSY_RETRY_AFTER_SECONDS,
        });
        throw new TemporarilyUnavailableError('the server is busy authenticating other clients; retry shortly', BUSY_RETRY_AFTER_SECONDS);
      }
      throw err;
    }
    if (proved !== true || !client) {
      charged.failed();
      // The response says only FAILED; the audit event also says why, when the method knows.
      throw this.failed(FAILED, clientId, context, typeof proved === 'object' ? proved.failed : undefined);
    }
    charged.refund();
    this.limiter.success(attempt);
    return client;
  }

  /** The whole path for a framework-free caller: {@link select}, {@link read}, {@link authenticate}. */
  async authenticateRequest(request: ClientAuthRequest, context: ClientAuthContext): Promise<Client> {
    const method = await this.select(request, context);
    return this.authenticate(this.read(method.name, request, context), context);
  }

  /**
   * Checks a client id and secret without limits or gate (the CLI, tests): a remembered verification
   * or one bcrypt comparison, the same cost for an unknown id. Rejects with InvalidClientError.
   */
  async verifySecret(clientId: string, secret: string): Promise<Client> {
    const client = await this.store.getClient(clientId);
    const presented = { clientId, secret };
    if (client && this.secrets.recalls(presented, client)) return client;
    if (!(await this.secrets.verify(presented, client, (job) => job())) || !client) throw new InvalidClientError(FAILED);
    return client;
  }

  /** Sends every refusal held by the tarpit now (the instance is closing). */
  close(): void {
    this.tarpit.releaseAll();
    this.sharedLimiter?.close();
  }

  /** Records a refusal by a failure limit (aggregated per key, see {@link RefusalEvents}) and returns its 429. */
  private refuse(refusal: Refusal, attempt: AuthAttempt): TooManyAttemptsError {
    this.refusalEvents.record(refusal.limit === 'address' ? attempt.address : attempt.clientId, {
      limit: refusal.limit,
      ...attempt,
      clientId: auditableClientId(attempt.clientId),
      retryAfter: refusal.retryAfterSeconds,
    });
    return new TooManyAttemptsError(
      `too many failed client authentications from this ${refusal.limit === 'address' ? 'address' : 'client_id'}; retry after ${refusal.retryAfterSeconds} s`,
      refusal.retryAfterSeconds,
    );
  }

  /** Records a failed authentication and returns its error (no secret ever goes into the event). */
  private failed(reason: string, claimedClientId: string | undefined, context: ClientAuthContext, detail?: string): InvalidClientError {
    this.events.record('client.authentication_failed', {
      clientId: auditableClientId(claimedClientId),
      reason,
      address: context.address,
      ...(detail === undefined ? {} : { detail }),
    });
    return new InvalidClientError(reason);
  }
}
