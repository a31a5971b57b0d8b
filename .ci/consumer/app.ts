// A consumer of the packed package: compiled with skipLibCheck: false against @types/express 4 and 5, then run once on 127.0.0.1 (it stops by itself).
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express, { type Request } from 'express';
import {
  DEFAULTS,
  InvalidTokenError,
  OAuthError,
  createOAuth,
  createResourceServer,
  oauthErrorHandler,
  withAuth,
  type AuthInfo,
  type AuthenticatedRequest,
  type GuardOptions,
  type OAuthOptions,
  type ResourceServerOptions,
} from 'express-client-credentials';
import { AuthorizationServer, ClientRegistry, type Client } from 'express-client-credentials/core';
import { StoreError, type Store } from 'express-client-credentials/store';
import { SqliteStore } from 'express-client-credentials/store/sqlite';
import { PostgresStore, type PostgresStoreOptions } from 'express-client-credentials/store/postgres';
import { jsonLinesAuditLogger, type AuditEvent } from 'express-client-credentials/audit';
import { limitOptionsFromEnv } from 'express-client-credentials/env';
import { createTokenClient, type TokenClientOptions } from 'express-client-credentials/client';

const dir = mkdtempSync(join(tmpdir(), 'ecc-consumer-'));
const options: OAuthOptions = { issuer: 'http://localhost:3000', database: join(dir, 'oauth.sqlite'), bcryptCost: 4, ...limitOptionsFromEnv({}) };
const guard: GuardOptions = { acceptScp: false };
const remote: ResourceServerOptions = { issuer: 'https://auth.example', audience: 'orders' };
const events: AuditEvent[] = [];
const clientOptions: TokenClientOptions = { tokenEndpoint: 'http://127.0.0.1:1/oauth/token', clientId: 'c', clientSecret: 's' };
// Declared, never connected: the consumer run has no database server.
const pgOptions: PostgresStoreOptions = { schema: 'oauth', poolSize: 4 };
const pgStore: Store = PostgresStore.open('postgres://oauth@127.0.0.1:5432/oauth', pgOptions);
void [createTokenClient, clientOptions, AuthorizationServer, ClientRegistry, StoreError, SqliteStore, InvalidTokenError, remote, DEFAULTS.tokenPath];

function whoAmI(req: AuthenticatedRequest): AuthInfo {
  return req.auth;
}

async function main(): Promise<void> {
  const oauth = createOAuth(options);
  const store: Store = oauth.server.store;
  oauth.events.on('audit', (event: AuditEvent) => events.push(event));
  oauth.events.on('audit', jsonLinesAuditLogger({ write: () => true }));
  const { client, clientSecret }: { client: Client; clientSecret: string } = await oauth.registry.create({ name: 'consumer', scopes: ['read'] });
  const rs = createResourceServer(remote);
  rs.close();

  const app = express();
  app.use(oauth.tokenRouter());
  app.get('/api/items/:id', oauth.requireScope('read', guard), withAuth<Request<{ id: string }>>((req, res) => {
    res.json({ id: req.params.id, clientId: whoAmI(req).clientId });
  }));
  app.use(oauthErrorHandler());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const basic = Buffer.from(`${client.id}:${clientSecret}`).toString('base64');
    const tokenRes = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    const { access_token: token } = (await tokenRes.json()) as { access_token: string };
    const res = await fetch(`${base}/api/items/7`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { id: string; clientId: string };
    const refused = await fetch(`${base}/api/items/7`);
    if (res.status !== 200 || body.id !== '7' || body.clientId !== client.id || refused.status !== 401) {
      throw new Error(`unexpected answers: ${res.status} ${JSON.stringify(body)} ${refused.status}`);
    }
    if (!(new InvalidTokenError('x') instanceof OAuthError) || !events.some((e) => e.type === 'token.issued') || !(await store.revision())) {
      throw new Error('events or errors are not what the declarations say');
    }
    console.log('consumer: token issued and accepted over 127.0.0.1');
  } finally {
    server.close();
    await oauth.close();
    await pgStore.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// Stops by itself: a hung request cannot keep CI waiting.
setTimeout(() => {
  console.error('consumer: timed out');
  process.exit(1);
}, 30_000).unref();
main().catch((err: unknown) => {
  console.error('consumer failed:', err);
  process.exitCode = 1;
});
