// The example app's Prometheus endpoint, loaded in-process like the other example tests: counters move after token requests and guarded calls.
import { join } from 'node:path';
import request from 'supertest';
import { tempDir } from './helpers';

interface Service {
  name: string;
  url: string;
  demo?: { clientId: string; clientSecret: string };
  close(): Promise<void>;
}
type Start = (context: { env: Record<string, string | undefined>; print: (line: string) => void; auditLog?: { write(line: string): unknown } }) => Promise<Service>;

// The example imports the built package by its name, as an application would.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const metricsService = require('../example-app/metrics') as { start: Start; metricsPort(env: Record<string, string | undefined>): number };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const itemsService = require('../example-app/app') as { start: Start };

/** The value of the Prometheus sample `name{labels}` (labels as printed, in order), 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf('}'));
    const found = Object.fromEntries([...body.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    const wanted = Object.entries(labels);
    if (wanted.length === Object.keys(found).filter((k) => !k.startsWith('otel_')).length && wanted.every(([k, v]) => found[k] === v)) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return 0;
}

describe('example app metrics', () => {
  it('derives its port from METRICS_PORT or PORT', () => {
    expect(metricsService.metricsPort({})).toBe(9464);
    expect(metricsService.metricsPort({ PORT: '4000' })).toBe(10464);
    expect(metricsService.metricsPort({ PORT: '4000', METRICS_PORT: '9100' })).toBe(9100);
    expect(() => metricsService.metricsPort({ METRICS_PORT: 'x' })).toThrow(/METRICS_PORT/);
  });

  it('takes a free port when PORT=0 asks for one, rather than the fixed 6464', () => {
    expect(metricsService.metricsPort({ PORT: '0' })).toBe(0);
    expect(metricsService.metricsPort({ PORT: '0', METRICS_PORT: '9100' })).toBe(9100);
  });

  it('serves counters on 127.0.0.1 that move with token requests and guarded calls', async () => {
    const { dir, cleanup } = tempDir();
    const lines: string[] = [];
    const metrics = await metricsService.start({ env: { METRICS_PORT: '0' }, print: (l) => lines.push(l) });
    let items: Service | undefined;
    try {
      expect(metrics.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const env = { PORT: '0', OAUTH_DB: join(dir, 'oauth.sqlite') };
      items = await itemsService.start({ env, print: () => undefined, auditLog: { write: () => true } });
      const demo = items.demo as { clientId: string; clientSecret: string };
      const token = await request(items.url).post('/oauth/token').auth(demo.clientId, demo.clientSecret).type('form').send({ grant_type: 'client_credentials' });
      expect(token.status).toBe(200);
      await request(items.url).post('/oauth/token').auth(demo.clientId, 'not-the-secret-but-long-enough').type('form').send({ grant_type: 'client_credentials' });
      expect((await request(items.url).get('/api/items').set('Authorization', `Bearer ${token.body.access_token}`)).status).toBe(200);
      expect((await request(items.url).get('/api/items')).status).toBe(401);

      const scraped = await fetch(metrics.url);
      expect(scraped.status).toBe(200);
      const text = await scraped.text();
      expect(sample(text, 'oauth_token_requests_total', { result: 'issued' })).toBe(1);
      expect(sample(text, 'oauth_token_requests_total', { result: 'error', error: 'invalid_client' })).toBe(1);
      expect(sample(text, 'oauth_client_authentications_total', { method: 'client_secret_basic', result: 'success' })).toBe(1);
      expect(sample(text, 'oauth_guard_decisions_total', { result: 'allowed' })).toBe(1);
      expect(sample(text, 'oauth_guard_decisions_total', { result: 'denied', error: 'missing_token' })).toBe(1);
      expect(text).toMatch(/^oauth_bcrypt_queue_depth(\{[^}]*\})? 0$/m);
    } finally {
      await items?.close();
      await metrics.close();
      cleanup();
    }
  });
});
