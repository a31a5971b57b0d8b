// Wires an instance's metrics: the audit events, the bcrypt gate and the change feed of an AuthorizationServer, kept beside it rather than inside it.
import type { AuthorizationServer } from '../issuing/authorization-server';
import { OAuthMetrics, type ResolvedMetricsOptions } from './metrics';

const attached = new WeakMap<object, OAuthMetrics>();

/** Creates `server`'s metrics and subscribes them to its events, gate and change feed. Once per server. */
export function instrumentServer(server: AuthorizationServer, options: ResolvedMetricsOptions): OAuthMetrics {
  const existing = attached.get(server);
  if (existing) return existing;
  const metrics = new OAuthMetrics(options);
  metrics.observeAudit(server.events);
  server.clientAuth.gate.onWait((waitedMs) => metrics.bcryptWait(waitedMs));
  metrics.observeGate(server.clientAuth.gate);
  metrics.observeChangeFeed(() => server.changes.lastSuccessfulPoll);
  attached.set(server, metrics);
  return metrics;
}

/** The metrics attached to `owner` (an AuthorizationServer), if any. */
export function metricsOf(owner: object): OAuthMetrics | undefined {
  return attached.get(owner);
}
