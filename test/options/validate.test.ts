// Every option is checked when it is set up, by the one toolkit: a boolean option refuses a non-boolean (issue 10.11), any option refuses a value of no fitting type.
import { createOAuth, createResourceServer, requireScope } from '../../lib';
import {
  OPTION_FAMILIES,
  resolveAdminRouterOptions,
  resolveGuardOptions,
  resolveHealthRouterOptions,
  resolveOptions,
  resolveResourceMetadataOptions,
  resolveResourceServerOptions,
} from '../../lib/options';
import { resolveTokenClientOptions } from '../../lib/options/client';
import type { OptionTable } from '../../lib/options/validate';

const REMOTE = { issuer: 'https://auth.example', audience: 'orders' };

/** Each family's public resolver, given one option on top of the least a call needs. */
const RESOLVE: Record<keyof typeof OPTION_FAMILIES, (name: string, value: unknown) => unknown> = {
  instance: (name, value) => resolveOptions({ [name]: value }),
  guard: (name, value) => resolveGuardOptions({ [name]: value }),
  admin: (name, value) => resolveAdminRouterOptions({ [name]: value }),
  resourceServer: (name, value) => resolveResourceServerOptions({ ...REMOTE, [name]: value }),
  health: (name, value) => resolveHealthRouterOptions({ [name]: value }),
  resourceMetadata: (name, value) =>
    resolveResourceMetadataOptions({ [name]: value }, { resource: 'https://api.example', authorizationServers: ['https://auth.example'] }),
  tokenClient: (name, value) =>
    resolveTokenClientOptions({ tokenEndpoint: 'https://auth.example/token', clientId: 'c', clientSecret: 's', [name]: value } as never),
  introspection: (name, value) =>
    resolveResourceServerOptions({ ...REMOTE, introspection: { clientId: 'rs', clientSecret: 's', [name]: value } as never }),
  clientAssertion: (name, value) => resolveOptions({ clientAssertion: { [name]: value } }),
  dpop: (name, value) => resolveOptions({ dpop: { [name]: value } }),
};

const entries = (Object.keys(OPTION_FAMILIES) as (keyof typeof OPTION_FAMILIES)[]).flatMap((family) =>
  Object.entries(OPTION_FAMILIES[family] as OptionTable).map(([name, spec]) => ({ family, name, type: spec.type })),
);
const booleans = entries.filter((e) => e.type === '`boolean`');

describe('option validation', () => {
  it('finds the boolean options to check (allowBodyToken, acceptScp, requireTls in their families)', () => {
    expect(booleans.map((e) => `${e.family}.${e.name}`)).toEqual(
      expect.arrayContaining(['instance.requireTls', 'guard.allowBodyToken', 'guard.acceptScp', 'resourceServer.allowBodyToken', 'resourceServer.acceptScp', 'tokenClient.allowInsecureRequests']),
    );
  });

  it.each(booleans.map((e) => [`${e.family}.${e.name}`, e] as const))(
    'refuses a non-boolean %s with TypeError, never coercing "false" to true (issue 10.11)',
    (_label, { family, name }) => {
      for (const value of ['false', 'true', 0, 1, null]) {
        expect(() => RESOLVE[family](name, value)).toThrow(new TypeError(`${family === 'introspection' ? 'introspection.' : ''}${name} must be true or false`));
      }
      expect(() => RESOLVE[family](name, false)).not.toThrow();
    },
  );

  it('refuses allowBodyToken: "false" on a remote guard and a resource server when the guard is created (issue 10.11)', () => {
    expect(() => requireScope('read', { ...REMOTE, allowBodyToken: 'false' as never })).toThrow(new TypeError('allowBodyToken must be true or false'));
    expect(() => createResourceServer({ ...REMOTE, acceptScp: 'false' as never })).toThrow(new TypeError('acceptScp must be true or false'));
    const rs = createResourceServer(REMOTE);
    try {
      expect(() => rs.requireScope('read', { allowBodyToken: 'false' as never })).toThrow(new TypeError('allowBodyToken must be true or false'));
    } finally {
      rs.close();
    }
  });

  it.each(entries.map((e) => [`${e.family}.${e.name}`, e] as const))('refuses a value of no fitting type for %s with TypeError', (_label, { family, name }) => {
    expect(() => RESOLVE[family](name, Symbol('not an option value'))).toThrow(TypeError);
  });

  it('checks an instance option when the instance is created, before any database is opened', () => {
    expect(() => createOAuth({ database: '/nonexistent/dir/oauth.sqlite', busyTimeout: -1 })).toThrow(
      new TypeError('busyTimeout must be an integer from 0 to 60000'),
    );
  });
});

describe('paths that become Express routes', () => {
  it.each(['https://auth.example/tenant:prod', 'https://auth.example/t*', 'https://auth.example/a(b)', "https://auth.example/it's", 'https://auth.example/a!b'])(
    'refuses the issuer %s, whose path Express would read as route syntax instead of the URL the metadata publishes (RFC 8414 §3)',
    (issuer) => {
      expect(() => resolveOptions({ issuer })).toThrow(/the path of issuer must be made of "\/" and the characters/);
    },
  );

  it.each(['https://auth.example', 'https://auth.example/', 'https://auth.example/tenant-1/v2.0_x~y/'])('accepts the issuer %s', (issuer) => {
    expect(resolveOptions({ issuer }).issuer).toBe(issuer);
  });

  it('refuses a tokenPath with route syntax, and accepts a plain one', () => {
    expect(() => resolveOptions({ tokenPath: '/oauth/:token' })).toThrow(/tokenPath must be made of/);
    expect(resolveOptions({ tokenPath: '/v1/oauth/token' }).tokenPath).toBe('/v1/oauth/token');
  });

  it('leaves the issuer of a remote guard free: its path is fetched, never routed', () => {
    expect(() => resolveResourceServerOptions({ issuer: 'https://auth.example/tenant:prod', audience: 'https://api.example' })).not.toThrow();
  });
});
