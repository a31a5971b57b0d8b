// No secret, secret hash or access token in a log line, an audit event, an error (message, stack, cause) or an error response, through a full run with failures.
import { inspect } from 'node:util';
import request from 'supertest';
import { jsonLinesAuditLogger } from '../../lib/audit-log';
import { type AuditEvent } from '../../lib/core';
import { buildApp, type TestApp } from '../helpers';

const GRANT = { grant_type: 'client_credentials' };
const deep = (value: unknown) => inspect(value, { depth: 20, showHidden: true, breakLength: Infinity });

describe('secrets in logs, events and errors', () => {
  let t: TestApp;
  const captured: string[] = [];
  const jsonLines: string[] = [];
  const events: AuditEvent[] = [];

  beforeEach(async () => {
    captured.length = 0;
    t = await buildApp({
      addressFailureLimit: 4,
      logger: { warn: (m) => captured.push(m), error: (m, e) => captured.push(`${m} ${deep(e)}`) },
    });
    t.oauth.events.on('audit', (e: AuditEvent) => events.push(e));
    t.oauth.events.on('audit', jsonLinesAuditLogger({ write: (line: string) => jsonLines.push(line) }));
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      jest.spyOn(console, level).mockImplementation((...args: unknown[]) => void captured.push(args.map(deep).join(' ')));
    }
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await t.close();
  });

  it('keeps every secret, hash and token out of logs, events, errors and error responses through a run with failures', async () => {
    const secrets: string[] = [];
    const tokens: string[] = [];
    const { id, secret, client } = await t.createClient('read write');
    secrets.push(secret, ...client.secrets.map((s) => s.hash));
    const other = await t.createClient('read');
    secrets.push(other.secret, ...other.client.secrets.map((s) => s.hash));
    const post = () => request(t.app).post('/oauth/token').type('form');

    tokens.push(await t.tokenFor(id, secret, 'read'));
    const responses = [
      await post().auth(id, `${secret}x`).send(GRANT),
      await post().auth(id, secret.slice(0, -1)).send(GRANT),
      await post().send({ ...GRANT, client_id: id, client_secret: `${secret}y` }),
      await post().auth(id, secret).send({ ...GRANT, client_secret: secret }),
      await post().auth(other.id, secret).send({ ...GRANT, client_id: id }),
      await post().set('Authorization', `Basic ${Buffer.from(`${id}:${secret}:extra`).toString('base64')}`).send(GRANT),
      await post().set('Authorization', `Basic ${id}:${secret}`).send(GRANT),
      await post().set('Authorization', `Bearer ${secret}`).send(GRANT),
      await request(t.app).post(`/oauth/token?client_secret=${secret}`).type('form').send(GRANT),
      await post().auth(id, secret).send({ ...GRANT, scope: 'admin' }),
      await request(t.app).get('/api/items').set('Authorization', `Bearer ${secret}`),
      await request(t.app).get('/api/items').set('Authorization', `Bearer ${(tokens[0] as string).slice(0, -2)}`),
    ];
    // Past addressFailureLimit: refused without bcrypt, with a rate_limit.hit event.
    for (let i = 0; i < 3; i++) responses.push(await post().auth(id, `${secret}${i}`).send(GRANT));

    const rotated = await t.oauth.registry.rotateSecret(id, { graceSeconds: 60 });
    secrets.push(rotated.clientSecret, ...rotated.client.secrets.map((s) => s.hash));
    await t.oauth.registry.setScopes(other.id, 'read write');
    await t.oauth.registry.setEnabled(other.id, false);
    responses.push(await request(t.app).post('/oauth/token').set('X-Forwarded-For', '10.0.0.1').auth(other.id, other.secret).type('form').send(GRANT));
    await t.oauth.registry.delete(other.id);

    // A store failure in the middle of authentication: logged as server_error, with the cause, and still no secret.
    jest.spyOn(t.oauth.server.store, 'getClient').mockRejectedValueOnce(new Error('disk I/O error'));
    const failed = await t.oauth.server.authenticateClient(id, rotated.clientSecret).catch((e: unknown) => e);
    captured.push(deep(failed));
    const wrong = await t.oauth.server.authenticateClient(id, `${rotated.clientSecret}z`).catch((e: unknown) => e);
    captured.push(deep(wrong), String((wrong as Error).stack));
    // A change to the client ends the row the token path keeps, so the next request reads it, and fails.
    await t.oauth.registry.update(id, { description: 'rotated' });
    jest.spyOn(t.oauth.server.store, 'getClient').mockRejectedValueOnce(new Error('disk I/O error'));
    t.app.set('trust proxy', true);
    const serverError = await request(t.app).post('/oauth/token').set('X-Forwarded-For', '10.9.9.9').auth(id, rotated.clientSecret).type('form').send(GRANT);
    expect(serverError.status).toBe(500);
    expect(serverError.body).toEqual({ error: 'server_error' });
    responses.push(serverError);

    expect(responses.some((r) => r.status === 429)).toBe(true);
    expect(captured.some((line) => line.includes('disk I/O error'))).toBe(true);
    const types = new Set(events.map((e) => e.type));
    for (const type of ['client.created', 'token.issued', 'client.authentication_failed', 'rate_limit.hit', 'client.secret_rotated', 'client.updated', 'client.disabled', 'client.deleted']) {
      expect(types).toContain(type);
    }
    expect(jsonLines.map((line) => JSON.parse(line) as unknown)).toEqual(JSON.parse(JSON.stringify(events)));

    const haystack = [
      ...captured,
      ...jsonLines,
      deep(events),
      ...responses.map((r) => `${JSON.stringify(r.headers)} ${r.text}`),
    ].join('\n');
    for (const value of [...secrets, ...tokens]) expect(haystack.includes(value)).toBe(false);
  });
});
