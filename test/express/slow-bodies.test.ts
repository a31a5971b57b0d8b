// Slow bodies: the endpoints that read a body give up on one that has not arrived by the bodyTimeout deadline (408, connection closed).
import { connect, type Socket } from 'node:net';
import { buildApp, type TestApp } from '../helpers';
import { listen } from '../remote-helpers';

/** What the server sent back on a raw connection and whether it closed it; bounded so a hung server fails the test instead of hanging it. */
function answerOf(socket: Socket): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    const bound = setTimeout(() => {
      socket.destroy();
      resolve({ text, closedByServer: false });
    }, 5000);
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(bound);
      resolve({ text, closedByServer: true });
    });
  });
}

/** Opens a connection, sends the request head and the first bytes of a body that never completes. */
function trickle(url: string, path: string, headers: Record<string, string>, firstBytes: string): Socket {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.write(`POST ${path} HTTP/1.1\r\nhost: ${hostname}\r\n${head}\r\n${firstBytes}`);
  return socket;
}

const status = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
const body = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as unknown;

describe('slow request bodies (bodyTimeout)', () => {
  let t: TestApp;
  let http: Awaited<ReturnType<typeof listen>>;

  beforeEach(async () => {
    // A short injected deadline: the test waits for it, never for the default.
    t = await buildApp({ signingAlgorithm: 'ES256', bodyTimeout: 50 });
    t.app.use('/admin', t.oauth.adminRouter());
    http = await listen(t.app);
  });
  afterEach(async () => {
    await http.close();
    await t.close();
  });

  it('answers 408 invalid_request and closes every connection whose token request body stalls (RFC 9110 §15.5.9)', async () => {
    const { id, secret } = await t.createClient();
    const headers = {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
    };
    const sockets = [
      trickle(http.url, '/oauth/token', { ...headers, 'content-length': '100' }, 'g'),
      trickle(http.url, '/oauth/token', { ...headers, 'content-length': '100' }, 'grant_type=client'),
      trickle(http.url, '/oauth/token', { ...headers, 'transfer-encoding': 'chunked' }, '1\r\ng\r\n'),
    ];
    const answers = await Promise.all(sockets.map(answerOf));
    for (const answer of answers) {
      expect(answer.closedByServer).toBe(true);
      expect(status(answer.text)).toBe(408);
      expect(answer.text).toMatch(/\r\nconnection: close\r\n/i);
      expect(body(answer.text)).toEqual({ error: 'invalid_request', error_description: 'the request body did not arrive in time' });
    }
  });

  it('gives up on a stalled admin API body the same way', async () => {
    const admin = await t.createClient('oauth:admin', 'admin tool');
    const token = await t.tokenFor(admin.id, admin.secret);
    const socket = trickle(http.url, '/admin/clients', { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': '50' }, '{"na');
    const answer = await answerOf(socket);
    expect(answer.closedByServer).toBe(true);
    expect(status(answer.text)).toBe(408);
    expect(body(answer.text)).toEqual({ error: 'invalid_request', error_description: 'the request body did not arrive in time' });
  });

  it('still serves a body that arrives within the deadline', async () => {
    const { id, secret } = await t.createClient();
    await expect(t.tokenFor(id, secret)).resolves.toEqual(expect.any(String));
  });

  it('refuses a bodyTimeout outside 10 to 600000 ms when the instance is created', async () => {
    await expect(buildApp({ bodyTimeout: 5 })).rejects.toThrow(TypeError);
  });
});
