// Shared pieces of the property-based suites: the fast-check seed and run count, a raw HTTP client, a database snapshot.
import { createConnection } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Database from 'better-sqlite3';
import type { Express } from 'express';
import type fc from 'fast-check';

/**
 * FC_SEED fixes the seed (CI uses the default); FC_SEED=random draws one (printed by fast-check when a
 * property fails, so the run can be replayed). FC_RUNS raises or lowers the run count.
 */
export function fcParameters(defaultRuns: number): fc.Parameters<unknown> {
  const env = process.env.FC_SEED;
  const seed = env === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(env ?? 20261122);
  if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer or "random", not ${env}`);
  const runs = Number(process.env.FC_RUNS ?? defaultRuns);
  return { seed, numRuns: runs, endOnFailure: true };
}

/** The RFC 6749 §5.2 / RFC 6750 §3.1 / RFC 7009 codes a well-formed error may carry. */
export const RFC_ERROR_CODES = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'invalid_token',
  'insufficient_scope',
  'unsupported_token_type',
  'server_error',
  'temporarily_unavailable',
]);

/** RFC 6749 §5.2: error_description characters. */
export const DESCRIPTION = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Starts `app` on 127.0.0.1 and returns its port and a close function. */
export async function listen(app: Express): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Sends bytes exactly as given (control characters, non-UTF-8, malformed headers: what an HTTP
 * client library would refuse to send) and reads the response until the server closes.
 */
export function rawRequest(port: number, bytes: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error('no response within 10 s')));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) return reject(new Error(`incomplete response: ${JSON.stringify(all.toString('latin1').slice(0, 200))}`));
      const [statusLine, ...lines] = all.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine?.split(' ')[1]), headers, body: all.subarray(end + 4) });
    });
    // write, not end: a half-closed socket lets the server drop the response of an async handler.
    socket.write(bytes);
  });
}

/** Every row of every table, sorted, as one string: equal snapshots mean an unchanged database. */
export function snapshot(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    return JSON.stringify(
      tables.map(({ name }) => [name, db.prepare(`SELECT * FROM "${name}"`).all().map((row) => JSON.stringify(row)).sort()]),
    );
  } finally {
    db.close();
  }
}
