// `express-client-credentials token get`: a token for scripts from a real loopback authorization server, the secret from a file or the environment, never an argument.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startIssuer, type TestIssuer } from '../remote-helpers';
import { tempDir } from '../helpers';
import { runCli } from './in-process';

let iss: TestIssuer;
let dir: string;
let cleanup: () => void;
beforeEach(async () => {
  iss = await startIssuer();
  ({ dir, cleanup } = tempDir());
});
afterEach(async () => {
  await iss.close();
  cleanup();
});

function payload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('token get', () => {
  it('prints only the access token, the secret read from --client-secret-file', async () => {
    const { id, secret } = await iss.createClient('read write');
    const file = join(dir, 'secret');
    writeFileSync(file, `${secret}\n`);
    const { code, out, err } = await runCli(['token', 'get', '--issuer', iss.issuer, '--client-id', id, '--client-secret-file', file, '--scope', 'read']);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(out).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(payload(out.trim())).toMatchObject({ client_id: id, scope: 'read' });
  });

  it('reads the secret from OAUTH_CLIENT_SECRET and prints JSON with --json', async () => {
    const { id, secret } = await iss.createClient('read');
    const frozen = Date.now(); // the CLI's clock: expires_in is counted from it, not from the wall clock
    const { code, out } = await runCli(['token', 'get', '--token-endpoint', `${iss.issuer}/oauth/token`, '--client-id', id, '--json'], {
      OAUTH_CLIENT_SECRET: secret,
    }, () => frozen);
    expect(code).toBe(0);
    const body = JSON.parse(out) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'read' });
    expect(payload(body.access_token as string).client_id).toBe(id);
  });

  it('refuses a secret on the command line (it would show in ps and shell history)', async () => {
    const { id, secret } = await iss.createClient('read');
    const { code, out, err } = await runCli(['token', 'get', '--issuer', iss.issuer, '--client-id', id, '--client-secret', secret]);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toContain('unknown option --client-secret');
    expect(iss.hits.get('/oauth/token')).toBeUndefined();
  });

  it('is a usage error without any secret, and without an issuer or token endpoint', async () => {
    const noSecret = await runCli(['token', 'get', '--issuer', iss.issuer, '--client-id', 'x']);
    expect(noSecret.code).toBe(2);
    expect(noSecret.err).toContain('OAUTH_CLIENT_SECRET');
    const noServer = await runCli(['token', 'get', '--client-id', 'x'], { OAUTH_CLIENT_SECRET: 's' });
    expect(noServer.code).toBe(2);
    expect(noServer.err).toContain('--issuer');
  });

  it('fails with one line naming the RFC 6749 §5.2 error, never the secret', async () => {
    const { id } = await iss.createClient('read');
    const { code, out, err } = await runCli(['token', 'get', '--issuer', iss.issuer, '--client-id', id], { OAUTH_CLIENT_SECRET: 'not-the-secret' });
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toMatch(/^express-client-credentials: no token: invalid_client.*\(HTTP 401\)\n$/);
    expect(err).not.toContain('not-the-secret');
  });
});
