// The audit event bus (lib/core/model/events.ts): a listener that throws is reported and harms neither the request nor the other listeners.
import request from 'supertest';
import type { AuditEvent } from '../../../lib/core';
import { AuditEmitter } from '../../../lib/core/model/events';
import { buildApp, memoryLogger, type TestApp } from '../../helpers';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('audit events', () => {
  it('reports a throwing listener to the logger, still issues the token, and still tells the other listeners (README: Events)', async () => {
    const logger = memoryLogger();
    t = await buildApp({ logger });
    const { id, secret } = await t.createClient('read');
    const seen: string[] = [];
    t.oauth.events.on('token.issued', () => {
      throw new Error('listener bug');
    });
    t.oauth.events.on('token.issued', () => seen.push('second token.issued listener'));
    t.oauth.events.on('audit', () => {
      throw new Error('audit listener bug');
    });
    t.oauth.events.on('audit', (event: AuditEvent) => seen.push(`audit ${event.type}`));

    const res = await request(t.app).post('/oauth/token').auth(id, secret).type('form').send({ grant_type: 'client_credentials' });
    expect(res.status).toBe(200);
    expect(typeof res.body.access_token).toBe('string');
    expect(seen).toEqual(['second token.issued listener', 'audit token.issued']);
    expect(logger.lines).toEqual(['error an audit event listener failed', 'error an audit event listener failed']);
    expect(logger.lines.join('\n')).not.toContain(secret);
  });

  it('calls a once() listener once, as emit() would', () => {
    const events = new AuditEmitter(() => 0);
    const seen: number[] = [];
    events.once('audit', (event: AuditEvent) => seen.push(event.time));
    events.record('client.enabled', { clientId: 'a' });
    events.record('client.enabled', { clientId: 'a' });
    expect(seen).toEqual([0]);
    expect(events.listenerCount('audit')).toBe(0);
  });
});
