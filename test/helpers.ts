// Shared test fixtures: a fresh database per test, buildApp() wiring tokenRouter + guards, and request helpers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express, { type Express } from 'express';
import request from 'supertest';
import { createOAuth, oauthErrorHandler, type OAuth, type OAuthOptions } from '../lib';
import type { Client } from '../lib/core';

export const ISSUER = 'https://auth.test';

/** A temporary directory removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ecc-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A settable clock (epoch ms) for expiry tests: no sleeping. */
export function fakeClock(start = Date.UTC(2026, 0, 1)): { now: () => number; advance: (ms: number) => void; set: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms), set: (ms) => (t = ms) };
}

export interface TestApp {
  app: Express;
  oauth: OAuth;
  dir: string;
  database: string;
  /** Registers a client and returns its id and secret. */
  createClient(scopes?: string, name?: string): Promise<{ client: Client; id: string; secret: string }>;
  /** A token for a client via Basic authentication; fails the test when none is issued. */
  tokenFor(id: string, secret: string, scope?: string): Promise<string>;
  close(): Promise<void>;
}

/** The quiet logger tests use; collects messages so tests can assert on them. */
export function memoryLogger(): { warn: (m: string) => void; error: (m: string, e?: unknown) => void; lines: string[] } {
  const lines: string[] = [];
  return { warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`), lines };
}

/**
 * A fresh database and an app with the token router, `GET /api/items` (read), `POST /api/items`
 * (write), `GET /api/any` (read or admin), and the JSON error handler.
 */
export async function buildApp(options: OAuthOptions = {}): Promise<TestApp> {
  const { dir, cleanup } = tempDir();
  const database = join(dir, 'oauth.sqlite');
  const oauth = createOAuth({ issuer: ISSUER, database, bcryptCost: 4, logger: memoryLogger(), ...options });
  const app = express();
  app.use(oauth.tokenRouter());
  app.get('/api/items', oauth.requireScope('read'), (req, res) => res.json({ items: [], auth: req.auth }));
  app.post('/api/items', oauth.requireScope('write'), (req, res) => res.status(201).json({ auth: req.auth }));
  app.get('/api/any', oauth.requireScope.any('read', 'admin'), (req, res) => res.json({ auth: req.auth }));
  app.use(oauthErrorHandler());

  return {
    app,
    oauth,
    dir,
    database,
    async createClient(scopes = 'read write', name = 'test client') {
      const { client, clientSecret } = await oauth.registry.create({ name, scopes });
      return { client, id: client.id, secret: clientSecret };
    },
    async tokenFor(id, secret, scope) {
      // The token endpoint is under the issuer's path (RFC 8414 §3.1: tokenRouter() is mounted at the root).
      const res = await request(app)
        .post(`${new URL(oauth.server.options.issuer).pathname.replace(/\/+$/, '')}/oauth/token`)
        .auth(id, secret)
        .type('form')
        .send({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) });
      if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.access_token as string;
    },
    async close() {
      await oauth.close();
      cleanup();
    },
  };
}

/** A client row as a store returns it, for unit tests of the core; `overrides` replace fields. */
export function clientRow(overrides: Partial<Client> = {}): Client {
  return {
    id: 'c1',
    name: 'c',
    scopes: ['read', 'write'],
    audiences: [],
    groups: [],
    effectiveScopes: ['read', 'write'],
    effectiveAudiences: [],
    grantTypes: ['client_credentials'],
    tokenFormat: 'jwt',
    description: '',
    tokenLifetime: null,
    enabled: true,
    secrets: [{ hash: '$2b$04$x', createdAt: 0, expiresAt: null }],
    version: 1,
    tokensNotBefore: 0,
    createdAt: 0,
    updatedAt: 0,
    ...overrides,
  };
}
