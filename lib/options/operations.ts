// The operations families: options of healthRouter() and resourceMetadataRouter() (RFC 9728), their tables and resolvers (folded in from lib/operations-options.ts).
import { COMPUTED_MEMBERS, type PublishedResource } from '../core/verification/protected-resource';
import { integer, issuerUrl, optionsObject, resolveTable, scopeList, validateIssuer, type Check, type OptionTable, type OptionsOf, type ResolvedOf } from './validate';

export type { MetricsOptions } from '../core/observability/metrics';

/** A plain path for a probe: no parameters or patterns Express would interpret. */
const probePath: Check<string> = (value, name) => {
  if (typeof value !== 'string' || !value.startsWith('/') || /[\s?#:*()]/.test(value)) {
    throw new TypeError(`${name} must be a plain path starting with "/"`);
  }
  return value;
};

/** `healthRouter()`: liveness and readiness probes. */
export const HEALTH_OPTIONS = {
  livenessPath: { check: probePath, default: '/healthz', type: '`string`', description: 'liveness: 200 while the process answers' },
  readinessPath: { check: probePath, default: '/readyz', type: '`string`', description: 'readiness: 200 when every check passes, else 503' },
  checkTimeout: {
    check: integer(1, 60_000),
    default: 2000,
    defaultsKey: 'healthCheckTimeout' as const,
    type: '`number` (ms)',
    description: 'how long a readiness check may take before it counts as failed',
  },
} satisfies OptionTable;

const issuerList: Check<readonly string[], string[]> = (value) => {
  if (!Array.isArray(value)) throw new TypeError('authorizationServers must be an array of issuer URLs');
  return (value as unknown[]).map((s) => validateIssuer(s, 'authorizationServers'));
};

const additionalMetadata: Check<Readonly<Record<string, unknown>>, Record<string, unknown>> = (value) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError('additionalMetadata must be an object');
  for (const name of COMPUTED_MEMBERS) {
    if (name in value) throw new TypeError(`additionalMetadata may not set ${name}: it is computed (use the option of that name)`);
  }
  try {
    return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  } catch {
    throw new TypeError('additionalMetadata must be JSON-serializable');
  }
};

/** `resourceMetadataRouter()`: this resource's RFC 9728 metadata. */
export const RESOURCE_METADATA_OPTIONS = {
  resource: {
    check: issuerUrl(),
    defaultText: "the instance's `audience` (a resource server's first `audience`)",
    type: '`string`',
    description: 'the protected resource identifier (RFC 9728 §1.2): an https URL (http for localhost), no query or fragment',
  },
  authorizationServers: {
    check: issuerList,
    defaultText: "the instance's (or resource server's) issuer",
    type: '`string[]`',
    description: '`authorization_servers`: issuer identifiers',
  },
  scopesSupported: {
    check: scopeList(),
    optional: true,
    defaultText: 'the scopes the guards accepting `resource` require',
    type: '`string[]`',
    description: '`scopes_supported`',
  },
  additionalMetadata: {
    check: additionalMetadata,
    defaultText: '`{}`',
    type: '`Record<string, unknown>`',
    description: 'further RFC 9728 §2 members, e.g. `resource_name`, `resource_documentation`; computed members may not be set here',
  },
} satisfies OptionTable;

/** Options of `healthRouter()`. */
export type HealthRouterOptions = OptionsOf<typeof HEALTH_OPTIONS>;
export type ResolvedHealthRouterOptions = ResolvedOf<typeof HEALTH_OPTIONS>;

/** Options of `resourceMetadataRouter()` (RFC 9728). */
export type ResourceMetadataOptions = OptionsOf<typeof RESOURCE_METADATA_OPTIONS>;

/** Resolves `healthRouter()` options; throws `TypeError` on misuse. */
export function resolveHealthRouterOptions(options: HealthRouterOptions = {}): ResolvedHealthRouterOptions {
  optionsObject(options, 'healthRouter options');
  const resolved = resolveTable(HEALTH_OPTIONS, options);
  if (resolved.livenessPath === resolved.readinessPath) throw new TypeError('livenessPath and readinessPath must differ');
  return resolved;
}

/**
 * Resolves `resourceMetadataRouter()` options against the owner's defaults; throws `TypeError` on
 * misuse (RFC 9728 §2: `resource` is required and is a URL; `authorization_servers` are issuer identifiers).
 */
export function resolveResourceMetadataOptions(
  options: ResourceMetadataOptions = {},
  defaults: { resource: string; authorizationServers: readonly string[] },
): PublishedResource {
  optionsObject(options, 'resourceMetadataRouter options');
  // The owner's defaults are checked like given values: an instance's audience need not be a URL.
  return resolveTable(RESOURCE_METADATA_OPTIONS, {
    resource: defaults.resource,
    authorizationServers: defaults.authorizationServers,
    additionalMetadata: {},
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  });
}
