// Property-based tests of the requireScope() guard: random and mutated JWTs, every Authorization scheme, random methods and bodies.
import fc from 'fast-check';
import { buildApp, type TestApp } from '../helpers';
import { DESCRIPTION, fcParameters, listen, rawRequest, RFC_ERROR_CODES, snapshot } from './fuzz';

/** The guarded routes of buildApp() and the scopes each needs (all of them, or one of them for /api/any). */
const ROUTES = [
  { method: 'GET', path: '/api/items', needs: (s: string[]) => s.includes('read') },
  { method: 'POST', path: '/api/items', needs: (s: string[]) => s.includes('write') },
  { method: 'GET', path: '/api/any', needs: (s: string[]) => s.includes('read') || s.includes('admin') },
];
const GRANTS = ['read', 'write', 'read write', 'admin'];

type Mutation =
  | { k: 'none' }
  | { k: 'replace'; at: number; char: string }
  | { k: 'truncate'; at: number }
  | { k: 'insert'; at: number; text: string }
  | { k: 'segment'; which: number; json: unknown }
  | { k: 'drop-signature' };
type Credential =
  | { k: 'token'; grant: number; mutation: Mutation; scheme: string }
  | { k: 'raw'; value: string }
  | { k: 'none' };
interface Case {
  route: number;
  credential: Credential;
  query: string;
  contentType: string | undefined;
  body: string;
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant<Mutation>({ k: 'none' }),
  fc.record({ k: fc.constant('replace' as const), at: fc.nat(2000), char: fc.constantFrom(...B64URL.split(''), '.', '=', '+', '/') }),
  fc.record({ k: fc.constant('truncate' as const), at: fc.nat(2000) }),
  fc.record({ k: fc.constant('insert' as const), at: fc.nat(2000), text: fc.string({ maxLength: 8 }) }),
  fc.record({
    k: fc.constant('segment' as const),
    which: fc.nat(1),
    json: fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          alg: fc.constantFrom('none', 'HS256', 'RS256', 'ES256', 'PS256', 'RS512'),
          typ: fc.constantFrom('at+jwt', 'JWT', 'application/at+jwt'),
          kid: fc.string({ maxLength: 10 }),
          jku: fc.constant('http://127.0.0.1:1/jwks'),
          jwk: fc.constant({ kty: 'oct', k: 'AAAA' }),
          crit: fc.constant(['exp']),
          scope: fc.constantFrom('read write admin', 'admin'),
          exp: fc.oneof(fc.integer(), fc.double(), fc.string()),
        },
        { requiredKeys: [] },
      ),
    ),
  }),
  fc.constant<Mutation>({ k: 'drop-signature' }),
);
const credential: fc.Arbitrary<Credential> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('token' as const),
      grant: fc.nat(GRANTS.length - 1),
      mutation,
      scheme: fc.oneof({ weight: 5, arbitrary: fc.constant('Bearer ') }, { weight: 1, arbitrary: fc.constantFrom('bearer ', 'Bearer  ', 'BEARER ', 'Bearer\t', 'Basic ', 'DPoP ', '') }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('Bearer ', 'Basic ', 'Digest ', 'Negotiate ', 'MAC ', ''), fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.integer({ min: 5000, max: 20000 }).map((n) => 'a'.repeat(n))))
      .map(([scheme, rest]): Credential => ({ k: 'raw', value: `${scheme}${rest}`.replace(/[\r\n]/g, '') })),
  },
  { weight: 1, arbitrary: fc.constant<Credential>({ k: 'none' }) },
);
const requestCase: fc.Arbitrary<Case> = fc.record({
  route: fc.nat(ROUTES.length - 1),
  credential,
  query: fc.constantFrom('', '', '', '?access_token=abc', '?x=1'),
  contentType: fc.constantFrom(undefined, undefined, 'application/x-www-form-urlencoded', 'application/json', 'text/plain'),
  body: fc.oneof(fc.constant(''), fc.constant('access_token=abc'), fc.string({ maxLength: 100 })),
});

let t: TestApp;
let port: number;
let stop: () => Promise<void>;
const tokens: { token: string; scopes: string[] }[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  t = await buildApp();
  ({ port, close: stop } = await listen(t.app));
  const { id, secret } = await t.createClient('read write admin');
  for (const scope of GRANTS) tokens.push({ token: await t.tokenFor(id, secret, scope), scopes: scope.split(' ') });
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await stop();
  await t.close();
});

function mutate(token: string, m: Mutation): string {
  switch (m.k) {
    case 'none':
      return token;
    case 'replace': {
      const at = m.at % token.length;
      return token.slice(0, at) + m.char + token.slice(at + 1);
    }
    case 'truncate':
      return token.slice(0, m.at % token.length);
    case 'insert': {
      const at = m.at % token.length;
      return token.slice(0, at) + m.text + token.slice(at);
    }
    case 'segment': {
      const parts = token.split('.');
      parts[m.which] = Buffer.from(JSON.stringify(m.json) ?? 'null').toString('base64url');
      return parts.join('.');
    }
    case 'drop-signature':
      return token.split('.').slice(0, 2).join('.') + '.';
  }
}

function authorization(c: Credential): string | undefined {
  if (c.k === 'none') return undefined;
  if (c.k === 'raw') return c.value;
  return c.scheme + mutate((tokens[c.grant] as { token: string }).token, c.mutation);
}

/** The issued token `sent` is, byte for byte once decoded (base64url has spare bits in a segment's last character). */
function issuedTokenEqualTo(sent: string): { scopes: string[] } | undefined {
  const decoded = (s: string) => s.split('.').map((p) => Buffer.from(p, 'base64url').toString('hex'));
  const parts = sent.split('.');
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) return undefined;
  return tokens.find((x) => JSON.stringify(decoded(x.token)) === JSON.stringify(decoded(sent)));
}

describe('requireScope guard (property-based)', () => {
  it('never answers 5xx, never lets a request through without a valid token carrying the scope, and answers well-formed RFC 6750 errors', async () => {
    const before = snapshot(t.database);
    await fc.assert(
      fc.asyncProperty(requestCase, async (c) => {
        const route = ROUTES[c.route] as (typeof ROUTES)[number];
        const header = authorization(c.credential);
        const lines = [`${route.method} ${route.path}${c.query} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', `Content-Length: ${Buffer.byteLength(c.body)}`];
        if (c.contentType) lines.push(`Content-Type: ${c.contentType}`);
        if (header !== undefined) lines.push(`Authorization: ${header}`);
        const res = await rawRequest(port, Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.from(c.body)]));
        expect(res.status).toBeLessThan(500);
        if (res.status === 200 || res.status === 201) {
          const sent = /^Bearer +(.*)$/i.exec(header ?? '')?.[1] ?? '';
          const issued = issuedTokenEqualTo(sent);
          expect(issued).toBeDefined();
          expect(route.needs(issued?.scopes ?? [])).toBe(true);
          return;
        }
        if (res.headers['x-powered-by'] !== 'Express') {
          expect([400, 431]).toContain(res.status);
          return;
        }
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        const parsed = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
        expect(Object.keys(parsed).every((k) => k === 'error' || k === 'error_description')).toBe(true);
        if (parsed.error !== undefined) expect(RFC_ERROR_CODES.has(parsed.error as string)).toBe(true);
        if (parsed.error_description !== undefined) expect(parsed.error_description).toMatch(DESCRIPTION);
        // RFC 9449 §7.1: a request that used the DPoP scheme is answered with a DPoP challenge naming the proof algorithms.
        if (res.status === 401 || res.status === 403) {
          expect(res.headers['www-authenticate']).toMatch(/^(?:Bearer realm="oauth"|DPoP realm="oauth".*, algs="[A-Za-z0-9 ]+"$)/);
        }
      }),
      fcParameters(250),
    );
    expect(snapshot(t.database)).toBe(before);
    expect(unhandled).toEqual([]);
  });
});
