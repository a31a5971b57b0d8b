// The token client against a foreign authorization server: oidc-provider with client_credentials, in a child process on loopback (it is ESM-only).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createTokenClient, TokenClientError, type TokenClient } from '../../lib/client';

const CLIENT_ID = 'foreign-client';
const CLIENT_SECRET = 'a secret: with spaces/and+signs';

let child: ChildProcess;
let issuer: string;

beforeAll(async () => {
  child = spawn(process.execPath, [join(__dirname, 'fixtures', 'oidc-provider.mjs')], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'test', OIDC_CLIENT_ID: CLIENT_ID, OIDC_CLIENT_SECRET: CLIENT_SECRET },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  issuer = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve((JSON.parse(line) as { issuer: string }).issuer));
    child.once('exit', (code) => reject(new Error(`oidc-provider fixture exited with ${code}: ${stderr}`)));
  });
});

afterAll(async () => {
  if (child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill();
    await exited;
  }
});

let client: TokenClient | undefined;
afterEach(() => {
  client?.close();
  client = undefined;
});

async function tokenRequests(): Promise<number> {
  return ((await (await fetch(`${issuer}/__token-requests`)).json()) as { count: number }).count;
}

describe('token client against oidc-provider', () => {
  it('discovers the token endpoint (RFC 8414) and gets one token for 50 concurrent callers', async () => {
    client = createTokenClient({ issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, scope: 'read' });
    const before = await tokenRequests();
    const tokens = await Promise.all(Array.from({ length: 50 }, () => client!.getToken()));
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(tokens[0]!.scopes).toEqual(['read']);
    expect(tokens[0]!.expiresAt).toBeGreaterThan(Date.now());
    expect((await tokenRequests()) - before).toBe(1);
  });

  it('gets a separate token for another scope set', async () => {
    client = createTokenClient({ issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    const read = await client.getToken({ scope: 'read' });
    const both = await client.getToken({ scope: 'read write' });
    expect(both.accessToken).not.toBe(read.accessToken);
    expect(both.scopes).toEqual(['read', 'write']);
  });

  it('surfaces its invalid_client as a typed error (RFC 6749 §5.2)', async () => {
    client = createTokenClient({ issuer, clientId: CLIENT_ID, clientSecret: 'wrong' });
    const err = await client.getToken().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenClientError);
    expect(err).toMatchObject({ error: 'invalid_client', status: 401 });
  });
});
