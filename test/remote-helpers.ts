// Fixtures for cross-process tests: an issuer and resource services as real HTTP servers on 127.0.0.1, with request counting.
import { createServer, request as httpRequest, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { OAuthOptions } from '../lib';
import { buildApp, type TestApp } from './helpers';

/** Listens on 127.0.0.1 on a free port. */
export async function listen(handler?: RequestListener): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface TestIssuer extends TestApp {
  issuer: string;
  /** Requests the issuer received, by path. */
  hits: Map<string, number>;
  /** Stops answering (the database stays). */
  stop(): Promise<void>;
  /** While on, answers every request with a bare 500 (still counted in `hits`). */
  setFailing(on: boolean): void;
  /** A token for a client via Basic authentication and extra form parameters, over HTTP. */
  token(id: string, secret: string, form?: Record<string, string>): Promise<string>;
}

/** An authorization server listening on 127.0.0.1, its issuer being its own URL (plus `issuerPath`, e.g. `/tenant`). */
export async function startIssuer(options: OAuthOptions = {}, issuerPath = ''): Promise<TestIssuer> {
  let app: RequestListener | undefined;
  let failing = false;
  const hits = new Map<string, number>();
  const http = await listen((req, res) => {
    const path = (req.url ?? '').split('?')[0] as string;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (failing) {
      res.statusCode = 500;
      res.end();
      return;
    }
    (app as RequestListener)(req, res);
  });
  const t = await buildApp({ issuer: http.url + issuerPath, ...options });
  app = t.app;
  let stopped = false;
  const stop = async () => {
    if (!stopped) await http.close();
    stopped = true;
  };
  return {
    ...t,
    issuer: http.url + issuerPath,
    hits,
    stop,
    setFailing: (on) => {
      failing = on;
    },
    async token(id, secret, form = {}) {
      const res = await request(http.url).post(`${issuerPath}/oauth/token`).auth(id, secret).type('form').send({ grant_type: 'client_credentials', ...form });
      if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.access_token as string;
    },
    async close() {
      await stop();
      await t.close();
    },
  };
}

/**
 * Sends the headers and `firstChunk` of a POST whose body is announced (or streamed) as larger, and
 * never ends it; resolves with the answer. Rejects after 5 s without one: a server that waits for the
 * rest of the body never answers (a bound, not a timing assertion).
 */
export function postUnfinished(url: string, headers: Record<string, string>, firstChunk: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers });
    const bound = setTimeout(() => {
      req.destroy();
      reject(new Error('no answer within 5 s: the server waited for the rest of the body'));
    }, 5000);
    req.on('close', () => clearTimeout(bound));
    req.on('response', (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => {
        req.destroy();
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
      });
    });
    req.on('error', reject);
    req.write(firstChunk);
  });
}
