// Property-based tests of the token endpoint over raw HTTP: random methods, content types, bodies, parameters and Authorization headers.
import fc from 'fast-check';
import { buildApp, type TestApp } from '../helpers';
import { DESCRIPTION, fcParameters, listen, rawRequest, RFC_ERROR_CODES, snapshot, type RawResponse } from './fuzz';

/** Symbolic values, turned into the real client's id and secret when the request is written. */
const ID = '$ID';
const SECRET = '$SECRET';

type Auth =
  | { k: 'none' }
  | { k: 'basic'; id: string; secret: string }
  | { k: 'basic-bytes'; bytes: Uint8Array }
  | { k: 'raw'; value: string };
type Body =
  | { k: 'none' }
  | { k: 'form'; params: [string, string][] }
  | { k: 'text'; text: string }
  | { k: 'bytes'; bytes: Uint8Array };
interface Case {
  method: string;
  path: string;
  contentType: string | undefined;
  auth: Auth;
  duplicateAuth: boolean;
  body: Body;
}

/** true `yes` times in `yes + no`: fast-check's own bias towards small integers would skew fc.nat() for this. */
function often(yes: number, no = 1): fc.Arbitrary<boolean> {
  return fc.oneof({ weight: yes, arbitrary: fc.constant(true) }, { weight: no, arbitrary: fc.constant(false) });
}

const controlChars = fc.string({ unit: fc.integer({ min: 0, max: 31 }).filter((c) => c !== 10 && c !== 13).map((c) => String.fromCharCode(c)) });
const headerText = fc.oneof(
  fc.string({ maxLength: 60 }).map((s) => s.replace(/[\r\n]/g, '')),
  controlChars,
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, '')),
  fc.integer({ min: 1000, max: 20_000 }).map((n) => 'A'.repeat(n)),
);
const value = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('client_credentials', 'read', 'write', 'read write', 'admin', ID, SECRET, 'wrong-secret', '') },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: controlChars },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 10_000 }).map((n) => 'x'.repeat(n)) },
);
const paramName = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('grant_type', 'scope', 'client_id', 'client_secret', 'resource', 'audience', 'access_token') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom('grant_type[]', 'scope[a]', '__proto__', 'constructor', 'hasOwnProperty') },
);
const secretChoice = fc.oneof(fc.constantFrom(SECRET, 'wrong-secret', ''), fc.string({ maxLength: 80 }));
const auth: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Auth>({ k: 'none' }) },
  {
    weight: 8,
    arbitrary: fc.record({ k: fc.constant('basic' as const), id: fc.oneof(fc.constantFrom(ID, 'unknown-id'), fc.string({ maxLength: 40 })), secret: secretChoice }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('basic-bytes' as const), bytes: fc.uint8Array({ maxLength: 60 }) }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('Basic', 'basic', 'BASIC', 'Bearer', 'Digest', 'Negotiate', 'AWS4-HMAC-SHA256', 'DPoP', 'Token', ''), headerText)
      .map(([scheme, rest]): Auth => ({ k: 'raw', value: `${scheme} ${rest}` })),
  },
);
const body: fc.Arbitrary<Body> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Body>({ k: 'none' }) },
  {
    weight: 6,
    arbitrary: fc
      .tuple(often(9), fc.array(fc.tuple(paramName, value), { maxLength: 4 }), often(1, 3))
      .map(([grant, extra, bodyCredentials]): Body => ({
        k: 'form',
        params: [
          ...(grant ? [['grant_type', 'client_credentials'] as [string, string]] : []),
          ...(bodyCredentials ? [['client_id', ID] as [string, string], ['client_secret', SECRET] as [string, string]] : []),
          ...extra,
        ],
      })),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('text' as const), text: fc.oneof(fc.string({ maxLength: 200 }), fc.json()) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 300 }) }) },
);
const FORM = 'application/x-www-form-urlencoded';
const requestCase: fc.Arbitrary<Case> = fc.record({
  method: fc.oneof({ weight: 14, arbitrary: fc.constant('POST') }, { weight: 2, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'FOO') }),
  path: fc.oneof(
    { weight: 8, arbitrary: fc.constant('/oauth/token') },
    { weight: 1, arbitrary: fc.constantFrom(`/oauth/token?client_id=${ID}`, '/oauth/token?x=1&x=2', '/oauth/token/', '/OAUTH/TOKEN') },
  ),
  contentType: fc.oneof(
    { weight: 16, arbitrary: fc.constant(FORM) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        undefined,
        `${FORM}; charset=utf-8`,
        `${FORM}; charset=latin1`,
        `${FORM}; charset=utf-16`,
        'application/json',
        'text/plain',
        'multipart/form-data; boundary=x',
        '',
      ),
    },
    { weight: 1, arbitrary: headerText },
  ),
  auth,
  duplicateAuth: often(1, 5),
  body,
});

let t: TestApp;
let port: number;
let stop: () => Promise<void>;
let client: { id: string; secret: string };
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  // Failure counters off, so every request reaches the code paths behind them (they have their own tests).
  t = await buildApp({ addressFailureLimit: 0, clientFailureLimit: 0 });
  ({ port, close: stop } = await listen(t.app));
  client = await t.createClient('read write');
  await t.tokenFor(client.id, client.secret); // the signing key exists before the properties run
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await stop();
  await t.close();
});

function fill(text: string): string {
  return text.split(ID).join(client.id).split(SECRET).join(client.secret);
}

function authHeader(a: Auth): string | undefined {
  switch (a.k) {
    case 'none':
      return undefined;
    case 'basic':
      return `Basic ${Buffer.from(`${encodeURIComponent(fill(a.id))}:${encodeURIComponent(fill(a.secret))}`).toString('base64')}`;
    case 'basic-bytes':
      return `Basic ${Buffer.from(a.bytes).toString('base64')}`;
    case 'raw':
      return a.value;
  }
}

function bodyBytes(b: Body): Buffer {
  switch (b.k) {
    case 'none':
      return Buffer.alloc(0);
    case 'form':
      return Buffer.from(new URLSearchParams(b.params.map(([n, v]): [string, string] => [n, fill(v)])).toString());
    case 'text':
      return Buffer.from(b.text);
    case 'bytes':
      return Buffer.from(b.bytes);
  }
}

function encode(c: Case): Buffer {
  const payload = bodyBytes(c.body);
  const lines = [`${c.method} ${fill(c.path)} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', `Content-Length: ${payload.length}`];
  if (c.contentType !== undefined) lines.push(`Content-Type: ${c.contentType}`);
  const authorization = authHeader(c.auth);
  if (authorization !== undefined) {
    lines.push(`Authorization: ${authorization}`);
    if (c.duplicateAuth) lines.push(`Authorization: Basic ${Buffer.from('other:wrong').toString('base64')}`);
  }
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload]);
}

/** Whether the request carried the real client's id and secret, in one of the two ways RFC 6749 §2.3.1 allows. */
function sentRightCredentials(c: Case): boolean {
  const basic = c.auth.k === 'basic' && c.auth.id === ID && c.auth.secret === SECRET;
  const form = c.body.k === 'form' ? c.body.params : [];
  const inBody = form.some(([n, v]) => n === 'client_id' && v === ID) && form.some(([n, v]) => n === 'client_secret' && v === SECRET);
  return basic || inBody;
}

function checkErrorResponse(res: RawResponse): void {
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.headers['cache-control']).toBe('no-store');
  const parsed = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
  expect(Object.keys(parsed).every((k) => k === 'error' || k === 'error_description')).toBe(true);
  expect(RFC_ERROR_CODES.has(parsed.error as string)).toBe(true);
  if (parsed.error_description !== undefined) expect(parsed.error_description).toMatch(DESCRIPTION);
  if (res.status === 401) expect(res.headers['www-authenticate']).toMatch(/^Basic realm=/);
}

describe('token endpoint (property-based)', () => {
  it('never answers 5xx, never issues a token for wrong credentials, always answers a well-formed RFC 6749 §5.2 error, and changes nothing when it refuses', async () => {
    await fc.assert(
      fc.asyncProperty(requestCase, async (c) => {
        const before = snapshot(t.database);
        const res = await rawRequest(port, encode(c));
        expect(res.status).toBeLessThan(500);
        if (res.status === 200) {
          expect(sentRightCredentials(c)).toBe(true);
          expect(JSON.parse(res.body.toString('utf8'))).toMatchObject({ token_type: 'Bearer' });
          return;
        }
        expect(snapshot(t.database)).toBe(before);
        if (res.headers['x-powered-by'] !== 'Express') {
          // Node's HTTP parser refused the bytes before Express saw them (bad method, control characters in a header).
          expect([400, 431]).toContain(res.status);
          return;
        }
        if (c.method !== 'HEAD') checkErrorResponse(res);
      }),
      fcParameters(250),
    );
    expect(unhandled).toEqual([]);
  });
});
