// The example app, loaded in-process the way Express's own acceptance tests load its examples, driven through the full flow.
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import request from 'supertest';
import type * as Library from '../lib';
import type { ClientWithSecret } from '../lib/core';
import { memoryLogger, tempDir } from './helpers';

interface ExampleApp {
  createApp(options?: Library.OAuthOptions): Express;
  ensureDemoClient(): Promise<ClientWithSecret | undefined>;
  curlCommands(baseUrl: string, clientId?: string, clientSecret?: string): string[];
  start(context: {
    env: Record<string, string | undefined>;
    print: (line: string) => void;
    auditLog?: { write(line: string): unknown };
  }): Promise<{
    name: string;
    url: string;
    server: import('node:http').Server;
    close(): Promise<void>;
  }>;
}

// The example imports the built package by its name, as an application would; so does this test.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const example = require('../example-app/app') as ExampleApp;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const orders = require('../example-app/orders') as { ordersPort(env: Record<string, string | undefined>): number | undefined; ordersAudience(env: Record<string, string | undefined>): string };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const starter = require('../example-app/start') as {
  SERVICES: unknown[];
  run(
    services: unknown[],
    context: { env: Record<string, string | undefined>; print: (line: string) => void; printError: (line: string) => void; exit: (code: number) => void },
  ): Promise<{ running: { name: string; url: string }[]; stop(): Promise<void> }>;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { closeDefaultOAuth, defaultOAuth } = require('express-client-credentials') as typeof Library;

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(async () => {
  await closeDefaultOAuth();
  cleanup();
});

const bearer = (token: string) => `Bearer ${token}`;

describe('example app', () => {
  it('runs the full flow: demo client, token, both routes, 403 for a missing scope, 401 without a token', async () => {
    const app = example.createApp({ issuer: 'http://localhost:3000', database: join(dir, 'oauth.sqlite'), bcryptCost: 4, logger: memoryLogger() });
    const demo = await example.ensureDemoClient();
    if (!demo) throw new Error('expected a demo client on an empty database');
    expect(demo.client).toMatchObject({ name: 'demo client', scopes: ['read', 'write'] });
    expect(await example.ensureDemoClient()).toBeUndefined();

    const tokenRes = await request(app).post('/oauth/token').auth(demo.client.id, demo.clientSecret).type('form').send({ grant_type: 'client_credentials' });
    expect(tokenRes.status).toBe(200);
    expect(tokenRes.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'read write' });
    const token = tokenRes.body.access_token as string;

    expect((await request(app).get('/api/items').set('Authorization', bearer(token))).body).toEqual({ items: [] });
    const created = await request(app).post('/api/items').set('Authorization', bearer(token)).send({ name: 'first item' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: 1, name: 'first item', createdBy: demo.client.id });
    const listed = await request(app).get('/api/items').set('Authorization', bearer(token));
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ items: [created.body] });

    const readOnly = await request(app).post('/oauth/token').auth(demo.client.id, demo.clientSecret).type('form').send({ grant_type: 'client_credentials', scope: 'read' });
    const denied = await request(app).post('/api/items').set('Authorization', bearer(readOnly.body.access_token)).send({ name: 'x' });
    expect(denied.status).toBe(403);
    expect(denied.headers['www-authenticate']).toBe(
      'Bearer realm="oauth", error="insufficient_scope", error_description="this resource needs the scopes write", scope="write"',
    );
    expect(denied.body).toEqual({ error: 'insufficient_scope', error_description: 'this resource needs the scopes write' });

    const anonymous = await request(app).get('/api/items');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="oauth"');
  });

  it('mounts the admin API for oauth:admin tokens and prints the CLI command that creates an admin client', async () => {
    const env = { PORT: '0', OAUTH_DB: join(dir, 'oauth.sqlite') };
    const lines: string[] = [];
    const running = await example.start({ env, print: (line) => void lines.push(line), auditLog: { write: () => true } });
    try {
      const base = `http://127.0.0.1:${(running.server.address() as AddressInfo).port}`;
      const command = lines.find((l) => l.includes('client create') && l.includes('oauth:admin'));
      expect(command).toBe(`  npx express-client-credentials client create --db ${JSON.stringify(env.OAUTH_DB)} --name admin --scope oauth:admin`);
      // The printed command, run as the CLI would run it.
      const { runCli } = await import('./cli/in-process');
      // The database's bcrypt cost is the one the server stored: the CLI uses it too.
      const created = await runCli(['client', 'create', '--db', env.OAUTH_DB, '--name', 'admin', '--scope', 'oauth:admin', '--json'], {});
      const admin = JSON.parse(created.out) as { client_id: string; client_secret: string };
      const token = (await request(base).post('/oauth/token').auth(admin.client_id, admin.client_secret).type('form').send({ grant_type: 'client_credentials' }))
        .body.access_token as string;
      const listed = await request(base).get('/admin/clients').set('Authorization', bearer(token));
      expect(listed.status).toBe(200);
      expect(listed.body.clients.map((c: { client_name: string }) => c.client_name).sort()).toEqual(['admin', 'demo client']);
      expect((await request(base).get('/admin/clients')).status).toBe(401);
      const demoId = /client_id: +([0-9a-f]{32})/.exec(lines.join('\n'))?.[1] as string;
      const demoSecret = /client_secret: +([A-Za-z0-9_-]{43})/.exec(lines.join('\n'))?.[1] as string;
      const demoToken = (await request(base).post('/oauth/token').auth(demoId, demoSecret).type('form').send({ grant_type: 'client_credentials' })).body
        .access_token as string;
      expect((await request(base).get('/admin/clients').set('Authorization', bearer(demoToken))).status).toBe(403);
    } finally {
      await running.close();
    }
  });

  it('does not announce Express in an X-Powered-By header', async () => {
    const app = example.createApp({ issuer: 'http://localhost:3000', database: join(dir, 'oauth.sqlite'), bcryptCost: 4, logger: memoryLogger() });
    for (const res of [await request(app).get('/api/items'), await request(app).post('/oauth/token'), await request(app).get('/nowhere')]) {
      expect(res.headers).not.toHaveProperty('x-powered-by');
    }
  });

  it('answers a malformed JSON body with a short JSON 400, never a stack trace', async () => {
    const app = example.createApp({ issuer: 'http://localhost:3000', database: join(dir, 'oauth.sqlite'), bcryptCost: 4, logger: memoryLogger() });
    const demo = await example.ensureDemoClient();
    const tokenRes = await request(app).post('/oauth/token').auth(demo!.client.id, demo!.clientSecret).type('form').send({ grant_type: 'client_credentials' });
    const res = await request(app).post('/api/items').set('Authorization', bearer(tokenRes.body.access_token)).type('json').send('{"name":');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request' });
  });

  it('starts on PORT with OAUTH_DB, prints the demo client once with working commands, and prints no secret on the next run', async () => {
    const env = { PORT: '0', OAUTH_DB: join(dir, 'oauth.sqlite') };
    const lines: string[] = [];
    const running = await example.start({ env, print: (line) => void lines.push(line), auditLog: { write: () => true } });
    try {
      const { port } = running.server.address() as AddressInfo;
      expect(running.url).toBe(`http://localhost:${port}`);
      const output = lines.join('\n');
      const id = /client_id: +([0-9a-f]{32})/.exec(output)?.[1];
      const secret = /client_secret: +([A-Za-z0-9_-]{43})/.exec(output)?.[1];
      if (!id || !secret) throw new Error(`no demo client in the output:\n${output}`);
      for (const command of example.curlCommands(running.url, id, secret)) expect(lines).toContain(`  ${command}`);

      // What the printed commands do, against the running server (127.0.0.1).
      const base = `http://127.0.0.1:${port}`;
      const tokenRes = await request(base).post('/oauth/token').auth(id, secret).type('form').send({ grant_type: 'client_credentials' });
      expect(tokenRes.status).toBe(200);
      expect(tokenRes.body.scope).toBe('read write');
      expect((await request(base).get('/api/items').set('Authorization', bearer(tokenRes.body.access_token))).status).toBe(200);
      const posted = await request(base).post('/api/items').set('Authorization', bearer(tokenRes.body.access_token)).send({ name: 'first item' });
      expect(posted.status).toBe(201);
      // The issuer defaults to http://localhost:PORT.
      const payload = JSON.parse(Buffer.from((tokenRes.body.access_token as string).split('.')[1]!, 'base64url').toString()) as { iss: string };
      expect(payload.iss).toBe(`http://localhost:${port}`);
    } finally {
      await running.close();
    }

    const again: string[] = [];
    const second = await example.start({
      env: { ...env, OAUTH_ISSUER: 'https://items.example.com' },
      print: (line) => void again.push(line),
      auditLog: { write: () => true },
    });
    await second.close();
    expect(again.join('\n')).not.toMatch(/client_secret/);
    expect(again).toContain(`  ${example.curlCommands(second.url)[0]}`);
  });

  it('turns on scheduled key rotation from OAUTH_KEY_ROTATION and OAUTH_KEY_PUBLISH_AHEAD, and refuses a period that is not whole days', async () => {
    const env = { PORT: '0', OAUTH_DB: join(dir, 'oauth.sqlite'), OAUTH_KEY_ROTATION: '30d', OAUTH_KEY_PUBLISH_AHEAD: '10m' };
    const running = await example.start({ env, print: () => undefined, auditLog: { write: () => true } });
    try {
      const { options, rotationSchedule } = defaultOAuth().server;
      expect([options.keyRotationDays, options.keyPublishAhead]).toEqual([30, 600]);
      expect(rotationSchedule).toBeDefined();
    } finally {
      await running.close();
    }
    await expect(example.start({ env: { ...env, OAUTH_KEY_ROTATION: '36h' }, print: () => undefined })).rejects.toThrow(
      new TypeError('OAUTH_KEY_ROTATION must be whole days such as 30d, not "36h"'),
    );
  });

  it('keeps giving the demo client tokens during a wrong-secret flood, with limits from OAUTH_* variables, and logs audit events as JSON lines', async () => {
    // Every request comes from 127.0.0.1 here, so the per-address limit is off; the bcrypt gate
    // (one comparison at a time, four waiting) and its lane for known (client, address) pairs remain.
    const env = {
      PORT: '0',
      OAUTH_DB: join(dir, 'oauth.sqlite'),
      OAUTH_ADDRESS_FAILURE_LIMIT: '0',
      OAUTH_MAX_CONCURRENT_AUTHENTICATIONS: '1',
      OAUTH_MAX_QUEUED_AUTHENTICATIONS: '4',
    };
    const auditLines: string[] = [];
    const lines: string[] = [];
    const running = await example.start({ env, print: (line) => void lines.push(line), auditLog: { write: (line) => auditLines.push(line) } });
    try {
      const output = lines.join('\n');
      const id = /client_id: +([0-9a-f]{32})/.exec(output)?.[1];
      const secret = /client_secret: +([A-Za-z0-9_-]{43})/.exec(output)?.[1];
      if (!id || !secret) throw new Error(`no demo client in the output:\n${output}`);
      const base = `http://127.0.0.1:${(running.server.address() as AddressInfo).port}`;
      const post = (clientId: string, clientSecret: string) =>
        fetch(`${base}/oauth/token`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: 'grant_type=client_credentials',
        });
      expect((await post(id, secret)).status).toBe(200);

      const flooded = new Map<number, number>();
      const mine: number[] = [];
      for (let wave = 0; wave < 5; wave++) {
        const flood = Array.from({ length: 30 }, (_, i) =>
          post(i % 2 ? id : `unknown${wave}x${i}`, `wrong-secret-${i}`).then((r) => flooded.set(r.status, (flooded.get(r.status) ?? 0) + 1)),
        );
        await Promise.all([...flood, post(id, secret).then((r) => mine.push(r.status))]);
      }
      expect(mine).toEqual([200, 200, 200, 200, 200]);
      expect(flooded.get(200)).toBeUndefined();
      expect(flooded.get(503)).toBeGreaterThan(0);

      const events = auditLines.map((line) => JSON.parse(line) as { type: string });
      expect(auditLines.every((line) => line.endsWith('\n'))).toBe(true);
      expect(events.filter((e) => e.type === 'token.issued')).toHaveLength(6);
      expect(events.some((e) => e.type === 'client.authentication_failed')).toBe(true);
      expect(events.some((e) => e.type === 'rate_limit.hit')).toBe(true);
      expect(auditLines.join('')).not.toContain(secret);
    } finally {
      await running.close();
    }
  });
});

describe('npm start (example-app/start.js)', () => {
  it('puts the orders service on PORT + 1 unless ORDERS_PORT says otherwise, and names that port in its audience', () => {
    expect(orders.ordersPort({})).toBe(3001);
    expect(orders.ordersPort({ PORT: '4000' })).toBe(4001);
    expect(orders.ordersPort({ PORT: '4000', ORDERS_PORT: '5000' })).toBe(5000);
    expect(orders.ordersPort({ PORT: '0' })).toBe(0);
    expect(orders.ordersPort({ PORT: '65535' })).toBeUndefined();
    expect(orders.ordersAudience({ PORT: '4000' })).toBe('http://localhost:4001');
    expect(orders.ordersAudience({ PORT: '4000', ORDERS_AUDIENCE: 'https://orders.example' })).toBe('https://orders.example');
  });

  it('keeps the items service running and says why when the orders service cannot take its port', async () => {
    const { listen } = await import('./remote-helpers');
    const taken = await listen();
    const errors: string[] = [];
    const exits: number[] = [];
    const env = { PORT: '0', METRICS_PORT: '0', ORDERS_PORT: new URL(taken.url).port, OAUTH_DB: join(dir, 'oauth.sqlite') };
    try {
      const started = await starter.run(starter.SERVICES, { env, print: () => undefined, printError: (line) => errors.push(line), exit: (code) => exits.push(code) });
      try {
        expect(started.running.map((s) => s.name)).toEqual(['metrics', 'items service']);
        expect(errors).toEqual([expect.stringMatching(/^orders service could not start: .*EADDRINUSE.*; still running: metrics, items service$/)]);
        expect(exits).toEqual([]);
        const items = await request(started.running[1]!.url.replace('localhost', '127.0.0.1')).get('/api/items');
        expect(items.status).toBe(401);
      } finally {
        await started.stop();
      }
    } finally {
      await taken.close();
    }
  });

  it('exits with 1 when no service could start', async () => {
    const exits: number[] = [];
    const errors: string[] = [];
    const started = await starter.run(starter.SERVICES, {
      env: { PORT: 'not-a-port', METRICS_PORT: 'not-a-port', OAUTH_DB: join(dir, 'oauth.sqlite') },
      print: () => undefined,
      printError: (line) => errors.push(line),
      exit: (code) => exits.push(code),
    });
    expect(started.running).toEqual([]);
    expect(exits).toEqual([1]);
    expect(errors).toEqual([
      'metrics could not start: METRICS_PORT must be a port number, not "not-a-port"',
      'items service could not start: PORT must be a port number, not "not-a-port"',
      'orders service could not start: the orders service needs OAUTH_ISSUER or an items service started before it',
    ]);
  });
});
