// The logger option takes a real pino logger as it is: warnings and errors arrive in pino's (obj, msg) form without stacks, and audit events can go to it.
import { join } from 'node:path';
import express from 'express';
import pino from 'pino';
import request from 'supertest';
import { createOAuth } from '../../../lib';
import { pinoAuditLogger } from '../../../lib/audit-log';
import { SqliteStore } from '../../../lib/store/sqlite';
import { tempDir } from '../../helpers';

/** A pino logger writing JSON lines into an array. */
function pinoToArray(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const raw: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void raw.push(line) });
  return { logger, lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function instance(logger: pino.Logger, issuer?: string) {
  const { dir, cleanup } = tempDir();
  const store = SqliteStore.open(join(dir, 'oauth.sqlite'));
  const oauth = createOAuth({ ...(issuer ? { issuer } : {}), store, bcryptCost: 4, logger });
  cleanups.push(cleanup, async () => {
    await oauth.close();
    if (store.db.open) store.db.close();
  });
  return { oauth, store };
}

describe('pino as the logger option', () => {
  it('logs an internal error as { error: { type, message } } with the message, and no stack', async () => {
    const { logger, lines } = pinoToArray();
    const { oauth, store } = instance(logger, 'https://auth.example');
    store.db.close();
    expect((await request(express().use(oauth.healthRouter())).get('/readyz')).status).toBe(503);
    const logged = lines().find((l) => l.msg === 'readiness check store failed');
    expect(logged).toMatchObject({ level: 50, error: { type: 'StoreError', message: 'the database is closed' } });
    expect(JSON.stringify(lines())).not.toMatch(/"stack"|\n {4}at /);
  });

  it('logs a warning as pino\'s message', async () => {
    const { logger, lines } = pinoToArray();
    const { oauth } = instance(logger);
    const { client, clientSecret } = await oauth.registry.create({ name: 'c', scopes: 'read' });
    const app = express().use(oauth.tokenRouter());
    expect((await request(app).post('/oauth/token').auth(client.id, clientSecret).type('form').send({ grant_type: 'client_credentials' })).status).toBe(200);
    expect(lines()).toContainEqual(expect.objectContaining({ level: 40, msg: expect.stringMatching(/^no issuer configured/) }));
  });

  it('receives audit events under the audit key through pinoAuditLogger, never a secret', async () => {
    const { logger, lines } = pinoToArray();
    const { oauth } = instance(logger, 'https://auth.example');
    oauth.events.on('audit', pinoAuditLogger(logger));
    const { client, clientSecret } = await oauth.registry.create({ name: 'c', scopes: 'read' });
    const app = express().use(oauth.tokenRouter());
    await request(app).post('/oauth/token').auth(client.id, clientSecret).type('form').send({ grant_type: 'client_credentials' });
    const issued = lines().find((l) => l.msg === 'audit token.issued');
    expect(issued).toMatchObject({ level: 30, audit: { type: 'token.issued', clientId: client.id, scopes: ['read'] } });
    expect(typeof (issued as { time: unknown }).time).toBe('number');
    expect(JSON.stringify(lines())).not.toContain(clientSecret);
  });

  it('refuses a level the logger does not have', () => {
    const { logger } = pinoToArray();
    expect(() => pinoAuditLogger(logger, { level: 'verbose' as never })).toThrow(TypeError);
  });
});
