// A scripted authorization server and resource for token client tests: real HTTP on 127.0.0.1, every token request recorded.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen } from '../remote-helpers';

export interface TokenRequestRecord {
  authorization: string | undefined;
  form: URLSearchParams;
}

export interface Answer {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface Stub {
  url: string;
  /** Token requests received, in order. */
  tokenRequests: TokenRequestRecord[];
  /** Metadata requests received. */
  metadataRequests: number;
  /** What the token endpoint answers to request number `n` (0-based). Default: a token `t<n>` for 3600 s. */
  answerToken: (n: number, form: URLSearchParams) => Answer | Promise<Answer>;
  /** What `GET /resource` answers to a bearer token. Default: 200 with the token echoed. */
  answerResource: (token: string | undefined) => Answer | Promise<Answer>;
  /** The token endpoint the metadata names (default `/token`). */
  tokenPath: string;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (data += chunk));
    req.on('end', () => resolve(data));
  });
}

function send(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...(answer.headers ?? {}) });
  res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
}

export async function startStub(): Promise<Stub> {
  const stub: Stub = {
    url: '',
    tokenRequests: [],
    metadataRequests: 0,
    answerToken: (n) => ({ body: { access_token: `t${n}`, token_type: 'Bearer', expires_in: 3600 } }),
    answerResource: (token) => ({ body: { token } }),
    tokenPath: '/token',
    close: async () => undefined,
  };
  const http = await listen((req, res) => {
    void (async () => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method === 'GET' && path?.startsWith('/.well-known/oauth-authorization-server')) {
        // Any issuer path gets the same document, naming the server's root as its issuer.
        stub.metadataRequests++;
        return send(res, { body: { issuer: stub.url, token_endpoint: stub.url + stub.tokenPath, grant_types_supported: ['client_credentials'] } });
      }
      if (req.method === 'POST' && path === stub.tokenPath) {
        const form = new URLSearchParams(await readBody(req));
        const n = stub.tokenRequests.length;
        stub.tokenRequests.push({ authorization: req.headers.authorization, form });
        return send(res, await stub.answerToken(n, form));
      }
      if (path === '/resource') {
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        return send(res, await stub.answerResource(token));
      }
      send(res, { status: 404, body: { error: 'not_found' } });
    })();
  });
  stub.url = http.url;
  stub.close = http.close;
  return stub;
}

/** A promise and the functions that settle it, for ordering concurrent calls without timers. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
