// Options of the operations routers (RFC 9728 resource metadata, health) and of metrics: types and resolution with TypeError on misuse. To fold into the options module.
import { normalizeScopes } from './core/model/scope';
import { COMPUTED_MEMBERS, type PublishedResource } from './core/verification/protected-resource';
import { validateIssuer } from './options';

export type { MetricsOptions } from './core/observability/metrics';

/** Options of `resourceMetadataRouter()` (RFC 9728). */
export interface ResourceMetadataOptions {
  /**
   * The protected resource identifier (RFC 9728 §1.2): an https URL (http for localhost), no query
   * or fragment. Default: the instance's `audience` (a resource server's first `audience`).
   */
  resource?: string;
  /** `authorization_servers`: issuer identifiers. Default: the instance's (or resource server's) issuer. */
  authorizationServers?: readonly string[];
  /** `scopes_supported`. Default: the scopes the guards accepting `resource` require. */
  scopesSupported?: readonly string[];
  /** Further RFC 9728 §2 members, e.g. `resource_name`, `resource_documentation`; computed members may not be set here. */
  additionalMetadata?: Readonly<Record<string, unknown>>;
}

/** Options of `healthRouter()`. */
export interface HealthRouterOptions {
  /** Liveness: 200 while the process answers. Default `/healthz`. */
  livenessPath?: string;
  /** Readiness: 200 when every check passes, else 503. Default `/readyz`. */
  readinessPath?: string;
  /** ms a readiness check may take before it counts as failed. Default 2000. */
  checkTimeout?: number;
}

export interface ResolvedHealthRouterOptions {
  livenessPath: string;
  readinessPath: string;
  checkTimeout: number;
}

/** Defaults of the operations options (to merge into DEFAULTS). */
export const OPERATIONS_DEFAULTS = {
  livenessPath: '/healthz',
  readinessPath: '/readyz',
  healthCheckTimeout: 2000,
} as const;

function healthPath(value: unknown, name: string): string {
  if (typeof value !== 'string' || !value.startsWith('/') || /[\s?#:*()]/.test(value)) {
    throw new TypeError(`${name} must be a plain path starting with "/"`);
  }
  return value;
}

/** Resolves `healthRouter()` options; throws `TypeError` on misuse. */
export function resolveHealthRouterOptions(options: HealthRouterOptions = {}): ResolvedHealthRouterOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('healthRouter options must be an object');
  const livenessPath = healthPath(options.livenessPath ?? OPERATIONS_DEFAULTS.livenessPath, 'livenessPath');
  const readinessPath = healthPath(options.readinessPath ?? OPERATIONS_DEFAULTS.readinessPath, 'readinessPath');
  if (livenessPath === readinessPath) throw new TypeError('livenessPath and readinessPath must differ');
  const checkTimeout = options.checkTimeout ?? OPERATIONS_DEFAULTS.healthCheckTimeout;
  if (typeof checkTimeout !== 'number' || !Number.isInteger(checkTimeout) || checkTimeout < 1 || checkTimeout > 60_000) {
    throw new TypeError('checkTimeout must be an integer from 1 to 60000');
  }
  return { livenessPath, readinessPath, checkTimeout };
}

/**
 * Resolves `resourceMetadataRouter()` options against the owner's defaults; throws `TypeError` on
 * misuse (RFC 9728 §2: `resource` is required and is a URL; `authorization_servers` are issuer identifiers).
 */
export function resolveResourceMetadataOptions(
  options: ResourceMetadataOptions = {},
  defaults: { resource: string; authorizationServers: readonly string[] },
): PublishedResource {
  if (typeof options !== 'object' || options === null) throw new TypeError('resourceMetadataRouter options must be an object');
  const resource = validateIssuer(options.resource ?? defaults.resource, 'resource');
  const servers = options.authorizationServers ?? defaults.authorizationServers;
  if (!Array.isArray(servers)) throw new TypeError('authorizationServers must be an array of issuer URLs');
  const authorizationServers = (servers as unknown[]).map((s) => validateIssuer(s, 'authorizationServers'));
  const scopesSupported =
    options.scopesSupported === undefined ? undefined : normalizeScopes([...options.scopesSupported], 'scopesSupported');
  const additional = options.additionalMetadata ?? {};
  if (typeof additional !== 'object' || additional === null || Array.isArray(additional)) {
    throw new TypeError('additionalMetadata must be an object');
  }
  for (const name of COMPUTED_MEMBERS) {
    if (name in additional) throw new TypeError(`additionalMetadata may not set ${name}: it is computed (use the option of that name)`);
  }
  let copy: Record<string, unknown>;
  try {
    copy = JSON.parse(JSON.stringify(additional)) as Record<string, unknown>;
  } catch {
    throw new TypeError('additionalMetadata must be JSON-serializable');
  }
  return { resource, authorizationServers, scopesSupported, additionalMetadata: copy };
}
