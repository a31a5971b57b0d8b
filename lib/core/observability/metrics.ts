// Metrics through @opentelemetry/api only: counters built from audit events and a few explicit hooks; no-ops until the host app registers a MeterProvider.
import { createNoopMeter, metrics as otelMetrics, type Attributes, type Counter, type Histogram, type MeterProvider } from '@opentelemetry/api';

/** The class of the API's no-op meter, what `getMeter()` returns while no MeterProvider is registered. */
const NOOP_METER_CLASS = createNoopMeter().constructor;
import type { AuditEmitter, AuditEvent } from '../model/events';

/** Options of the instance's (or resource server's) metrics. */
export interface MetricsOptions {
  /**
   * Where instruments come from. Default: the global provider of `@opentelemetry/api`, a no-op until
   * the host app registers an SDK (`@opentelemetry/sdk-metrics`) before creating the instance.
   */
  meterProvider?: MeterProvider;
  /**
   * Label `oauth.tokens.issued` and allowed `oauth.guard.decisions` with `client_id`. Off by default:
   * one series per client grows with the registry (only authenticated ids are ever used as labels).
   */
  clientIdLabel?: boolean;
}

/** Resolved {@link MetricsOptions}. */
export interface ResolvedMetricsOptions {
  meterProvider: MeterProvider | undefined;
  clientIdLabel: boolean;
}

/** What a guard decided for one request. `error` is the RFC 6750 §3.1 code, or `missing_token`. */
export interface GuardDecision {
  result: 'allowed' | 'denied';
  error?: string | null;
  clientId?: string | undefined;
}

/** How a client authenticated at the token, introspection or revocation endpoint (RFC 8414 §2 names). */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post';

/** `success`, `failure` (invalid_client), or `refused` before any secret was compared (429 / 503). */
export type ClientAuthResult = 'success' | 'failure' | 'refused';

/** The attributes of an allowed guard decision without a client label. */
const ALLOWED: Attributes = Object.freeze({ result: 'allowed' });

/** The meter name every instrument is created under. */
export const METER_NAME = 'express-client-credentials';

/** Metric names, as the README and docs/operations.md list them (Prometheus shows dots as underscores, counters with `_total`). */
export const METRIC_NAMES = {
  tokenRequests: 'oauth.token.requests',
  tokensIssued: 'oauth.tokens.issued',
  tokensRevoked: 'oauth.tokens.revoked',
  clientAuthentications: 'oauth.client.authentications',
  rateLimitHits: 'oauth.rate_limit.hits',
  guardDecisions: 'oauth.guard.decisions',
  bcryptQueueDepth: 'oauth.bcrypt.queue.depth',
  bcryptInFlight: 'oauth.bcrypt.in_flight',
  bcryptQueueWait: 'oauth.bcrypt.queue.wait',
  cacheLookups: 'oauth.cache.lookups',
  changeFeedStaleness: 'oauth.change_feed.staleness',
  signingKeyRotations: 'oauth.signing_key.rotations',
} as const;

/** Throws `TypeError` on misuse, so a bad option fails at construction. */
export function resolveMetricsOptions(options: MetricsOptions | undefined): ResolvedMetricsOptions {
  if (options === undefined) return { meterProvider: undefined, clientIdLabel: false };
  if (typeof options !== 'object' || options === null) throw new TypeError('metrics must be an object');
  const provider = options.meterProvider;
  if (provider !== undefined && (typeof provider !== 'object' || provider === null || typeof provider.getMeter !== 'function')) {
    throw new TypeError('metrics.meterProvider must be an OpenTelemetry MeterProvider');
  }
  const clientIdLabel = options.clientIdLabel ?? false;
  if (typeof clientIdLabel !== 'boolean') throw new TypeError('metrics.clientIdLabel must be true or false');
  return { meterProvider: provider, clientIdLabel };
}

/**
 * The instruments of one instance. Counters come from the audit events where one exists
 * ({@link OAuthMetrics.observeAudit}); the token endpoint's outcome, guard decisions, cache lookups
 * and bcrypt waits come from explicit hooks; queue depth and change-feed staleness are read when
 * the exporter collects.
 */
export class OAuthMetrics {
  private readonly tokenRequests: Counter;
  private readonly tokensIssued: Counter;
  private readonly tokensRevoked: Counter;
  private readonly clientAuthentications: Counter;
  private readonly rateLimitHits: Counter;
  private readonly guardDecisions: Counter;
  private readonly cacheLookups: Counter;
  private readonly signingKeyRotations: Counter;
  private readonly bcryptQueueWait: Histogram;
  private readonly meter;
  /**
   * Whether anything records: false when the meter is the OpenTelemetry API's no-op one (no provider
   * registered when the instance was created, and none passed). The API hands out no proxy for
   * metrics, so such instruments stay no-ops for good, and the per-request hooks are not installed.
   */
  readonly live: boolean;
  /** Per cache, the attributes of a miss and of a hit, built once: a lookup is counted on every guarded request. */
  private readonly lookupAttributes = new Map<string, readonly [Attributes, Attributes]>();

  constructor(private readonly options: ResolvedMetricsOptions) {
    // Asked for at construction: the global provider must be registered before the instance is created.
    this.meter = (options.meterProvider ?? otelMetrics.getMeterProvider()).getMeter(METER_NAME);
    this.live = this.meter.constructor !== NOOP_METER_CLASS;
    const m = this.meter;
    this.tokenRequests = m.createCounter(METRIC_NAMES.tokenRequests, {
      description: 'Token endpoint requests by result (issued, error) and RFC 6749 §5.2 error code',
    });
    this.tokensIssued = m.createCounter(METRIC_NAMES.tokensIssued, { description: 'Access tokens issued' });
    this.tokensRevoked = m.createCounter(METRIC_NAMES.tokensRevoked, { description: 'Access tokens revoked (RFC 7009)' });
    this.clientAuthentications = m.createCounter(METRIC_NAMES.clientAuthentications, {
      description: 'Client authentications by method and result (success, failure, refused)',
    });
    this.rateLimitHits = m.createCounter(METRIC_NAMES.rateLimitHits, { description: 'Client authentications refused by a limit' });
    this.guardDecisions = m.createCounter(METRIC_NAMES.guardDecisions, {
      description: 'Resource guard decisions by result (allowed, denied) and RFC 6750 §3.1 error code',
    });
    this.cacheLookups = m.createCounter(METRIC_NAMES.cacheLookups, { description: 'Cache lookups by cache and result (hit, miss)' });
    this.signingKeyRotations = m.createCounter(METRIC_NAMES.signingKeyRotations, { description: 'Signing key rotations' });
    this.bcryptQueueWait = m.createHistogram(METRIC_NAMES.bcryptQueueWait, {
      description: 'Time a client authentication waited for a bcrypt slot',
      unit: 's',
      advice: { explicitBucketBoundaries: [0, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] },
    });
  }

  /** Counts issued and revoked tokens, rate-limit refusals and key rotations from the audit events. */
  observeAudit(events: AuditEmitter): void {
    events.on('audit', (event: AuditEvent) => {
      switch (event.type) {
        case 'token.issued':
          this.tokensIssued.add(1, this.clientLabel((event as AuditEvent<'token.issued'>).clientId));
          break;
        case 'token.revoked':
          this.tokensRevoked.add(1);
          break;
        case 'rate_limit.hit':
          // An aggregated event stands for itself and the refusals it suppressed.
          this.rateLimitHits.add(1 + ((event as AuditEvent<'rate_limit.hit'>).suppressed ?? 0), {
            limit: (event as AuditEvent<'rate_limit.hit'>).limit,
          });
          break;
        case 'key.rotated':
          this.signingKeyRotations.add(1, { scheduled: (event as AuditEvent<'key.rotated'>).scheduled });
          break;
        default:
          break;
      }
    });
  }

  /** One token endpoint request ended: `error` is its RFC 6749 §5.2 code when it failed. */
  tokenRequest(error: string | undefined): void {
    this.tokenRequests.add(1, error === undefined ? { result: 'issued' } : { result: 'error', error });
  }

  clientAuthentication(method: ClientAuthMethod, result: ClientAuthResult): void {
    this.clientAuthentications.add(1, { method, result });
  }

  guardDecision(decision: GuardDecision): void {
    // The common case, once per guarded request: attributes built once (the API treats them as read-only).
    if (decision.result === 'allowed' && !this.options.clientIdLabel) return this.guardDecisions.add(1, ALLOWED);
    const attributes: Attributes = { result: decision.result };
    if (decision.error) attributes.error = decision.error;
    if (decision.result === 'allowed') Object.assign(attributes, this.clientLabel(decision.clientId));
    this.guardDecisions.add(1, attributes);
  }

  /** One lookup in a cache (`verified_token`: the guards' verified-token caches). */
  cacheLookup(cache: string, hit: boolean): void {
    let attributes = this.lookupAttributes.get(cache);
    if (!attributes) this.lookupAttributes.set(cache, (attributes = [Object.freeze({ cache, result: 'miss' }), Object.freeze({ cache, result: 'hit' })]));
    this.cacheLookups.add(1, attributes[hit ? 1 : 0]);
  }

  /** A client authentication got its bcrypt slot after `waitedMs`. */
  bcryptWait(waitedMs: number): void {
    this.bcryptQueueWait.record(waitedMs / 1000);
  }

  /** Reports the bcrypt gate's queue depth and tasks in flight whenever metrics are collected. */
  observeGate(gate: { readonly waiting: number; readonly running: number }): void {
    this.meter
      .createObservableGauge(METRIC_NAMES.bcryptQueueDepth, { description: 'Client authentications waiting for a bcrypt slot' })
      .addCallback((result) => result.observe(gate.waiting));
    this.meter
      .createObservableGauge(METRIC_NAMES.bcryptInFlight, { description: 'bcrypt comparisons running' })
      .addCallback((result) => result.observe(gate.running));
  }

  /**
   * Reports, whenever metrics are collected, seconds since the change feed was last read
   * successfully: the most a change made by another process can have waited to be seen here.
   */
  observeChangeFeed(lastSuccessfulPoll: () => number | undefined, now: () => number = Date.now): void {
    this.meter
      .createObservableGauge(METRIC_NAMES.changeFeedStaleness, {
        description: 'Seconds since the store change feed was last read successfully',
        unit: 's',
      })
      .addCallback((result) => {
        const last = lastSuccessfulPoll();
        if (last !== undefined) result.observe(Math.max(0, now() - last) / 1000);
      });
  }

  private clientLabel(clientId: string | undefined): Attributes {
    return this.options.clientIdLabel && clientId !== undefined ? { client_id: clientId } : {};
  }
}
