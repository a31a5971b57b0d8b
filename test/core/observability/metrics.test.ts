// OpenTelemetry metrics of an instance: token requests, client authentications, guard decisions, caches, bcrypt gate, change feed; client ids only on request.
import express from 'express';
import request from 'supertest';
import { createResourceServer, METRIC_NAMES, oauthErrorHandler } from '../../../lib';
import { memoryLogger } from '../../helpers';
import { buildApp, fakeClock, type TestApp } from '../../helpers';
import { testMeterProvider, valueOf, type Point } from '../../metrics-helpers';
import { OAuthMetrics } from '../../../lib/core/observability/metrics';

let t: TestApp;
let collect: () => Promise<Map<string, Point[]>>;
afterEach(async () => t.close());

async function setUp(options: Parameters<typeof buildApp>[0] = {}, clientIdLabel = false) {
  const provider = testMeterProvider();
  collect = provider.collect;
  t = await buildApp({ ...options, metrics: { meterProvider: provider.meterProvider, clientIdLabel } });
}

const token = (form: Record<string, string>) => request(t.app).post('/oauth/token').type('form').send({ grant_type: 'client_credentials', ...form });

describe('metrics', () => {
  it('counts token requests by result and RFC 6749 §5.2 error code, and authentications by method and result', async () => {
    await setUp();
    const { id, secret } = await t.createClient('read');
    expect((await token({}).auth(id, secret)).status).toBe(200);
    expect((await token({}).auth(id, 'wrong-secret-of-plausible-length')).status).toBe(401);
    expect((await token({ client_id: id, client_secret: secret, scope: 'admin' })).status).toBe(400);
    expect((await token({ grant_type: 'password' }).auth(id, secret)).status).toBe(400);

    const m = await collect();
    const requests = m.get(METRIC_NAMES.tokenRequests);
    expect(valueOf(requests, { result: 'issued' })).toBe(1);
    expect(valueOf(requests, { result: 'error', error: 'invalid_client' })).toBe(1);
    expect(valueOf(requests, { result: 'error', error: 'invalid_scope' })).toBe(1);
    expect(valueOf(requests, { result: 'error', error: 'unsupported_grant_type' })).toBe(1);
    const auths = m.get(METRIC_NAMES.clientAuthentications);
    expect(valueOf(auths, { method: 'client_secret_basic', result: 'success' })).toBe(1);
    expect(valueOf(auths, { method: 'client_secret_basic', result: 'failure' })).toBe(1);
    // invalid_scope is decided after the client authenticated; unsupported_grant_type before any authentication.
    expect(valueOf(auths, { method: 'client_secret_post', result: 'success' })).toBe(1);
    expect(auths?.reduce((sum, p) => sum + p.value, 0)).toBe(3);
    expect(valueOf(m.get(METRIC_NAMES.tokensIssued), {})).toBe(1);
  });

  it('counts guard decisions by result and error code, and verified-token cache hits and misses', async () => {
    await setUp();
    const { id, secret } = await t.createClient('read');
    const access = await t.tokenFor(id, secret);
    expect((await request(t.app).get('/api/items')).status).toBe(401);
    expect((await request(t.app).get('/api/items').set('Authorization', 'Bearer abc.def.ghi')).status).toBe(401);
    expect((await request(t.app).post('/api/items').set('Authorization', `Bearer ${access}`)).status).toBe(403);
    expect((await request(t.app).get('/api/items').set('Authorization', `Bearer ${access}`)).status).toBe(200);

    const m = await collect();
    const decisions = m.get(METRIC_NAMES.guardDecisions);
    expect(valueOf(decisions, { result: 'denied', error: 'missing_token' })).toBe(1);
    expect(valueOf(decisions, { result: 'denied', error: 'invalid_token' })).toBe(1);
    expect(valueOf(decisions, { result: 'denied', error: 'insufficient_scope' })).toBe(1);
    expect(valueOf(decisions, { result: 'allowed' })).toBe(1);
    const lookups = m.get(METRIC_NAMES.cacheLookups);
    // The two guards share one cache: the token is verified once (miss) and then found (hit).
    expect(valueOf(lookups, { cache: 'verified_token', result: 'hit' })).toBe(1);
    expect(valueOf(lookups, { cache: 'verified_token', result: 'miss' })).toBe(2);
  });

  it('labels issued tokens and allowed decisions with client_id only when clientIdLabel is set (cardinality)', async () => {
    await setUp({}, true);
    const { id, secret } = await t.createClient('read');
    const access = await t.tokenFor(id, secret);
    await request(t.app).get('/api/items').set('Authorization', `Bearer ${access}`);
    const m = await collect();
    expect(valueOf(m.get(METRIC_NAMES.tokensIssued), { client_id: id })).toBe(1);
    expect(valueOf(m.get(METRIC_NAMES.guardDecisions), { result: 'allowed', client_id: id })).toBe(1);
    // Never on token requests or authentications, whose claimed ids are the caller's to choose.
    expect(JSON.stringify(m.get(METRIC_NAMES.tokenRequests))).not.toContain(id);
  });

  it('leaves client ids out by default', async () => {
    await setUp();
    const { id, secret } = await t.createClient('read');
    await t.tokenFor(id, secret);
    expect(JSON.stringify([...(await collect()).values()])).not.toContain(id);
  });

  it('records bcrypt waits, queue depth and change-feed staleness when collected', async () => {
    await setUp();
    const { id, secret } = await t.createClient('read');
    await t.tokenFor(id, secret);
    await t.oauth.server.changes.poll();
    const m = await collect();
    const wait = m.get(METRIC_NAMES.bcryptQueueWait);
    expect(wait?.[0]?.count).toBeGreaterThanOrEqual(1);
    expect(m.get(METRIC_NAMES.bcryptQueueDepth)?.[0]?.value).toBe(0);
    expect(m.get(METRIC_NAMES.bcryptInFlight)?.[0]?.value).toBe(0);
    expect(m.get(METRIC_NAMES.changeFeedStaleness)?.[0]?.value).toBeGreaterThanOrEqual(0);
  });

  it('counts rate-limit refusals and refused authentications, and key rotations, from the audit events', async () => {
    await setUp({ addressFailureLimit: 1 });
    const { id } = await t.createClient('read');
    expect((await token({}).auth(id, 'wrong-secret-of-plausible-length')).status).toBe(401);
    expect((await token({}).auth(id, 'wrong-secret-of-plausible-length')).status).toBe(429);
    await t.oauth.server.rotateSigningKey();
    const m = await collect();
    expect(valueOf(m.get(METRIC_NAMES.rateLimitHits), { limit: 'address' })).toBe(1);
    expect(valueOf(m.get(METRIC_NAMES.clientAuthentications), { method: 'client_secret_basic', result: 'refused' })).toBe(1);
    expect(valueOf(m.get(METRIC_NAMES.signingKeyRotations), { scheduled: false })).toBe(1);
  });

  it('counts every refusal of an aggregated rate_limit.hit: the event and the refusals it suppressed (issue 16.4)', async () => {
    const clock = fakeClock();
    await setUp({ addressFailureLimit: 1, refusalDelay: 0, clock: clock.now });
    const { id } = await t.createClient('read');
    expect((await token({}).auth(id, 'wrong-secret-of-plausible-length')).status).toBe(401);
    for (let i = 0; i < 4; i++) expect((await token({}).auth(id, 'wrong-secret-of-plausible-length')).status).toBe(429);
    expect(valueOf((await collect()).get(METRIC_NAMES.rateLimitHits), { limit: 'address' })).toBe(1);
    clock.advance(1000);
    expect((await token({}).auth(id, 'wrong-secret-of-plausible-length')).status).toBe(429);
    expect(valueOf((await collect()).get(METRIC_NAMES.rateLimitHits), { limit: 'address' })).toBe(5);
  });

  it('knows a no-op meter from a real one: with no MeterProvider registered or passed, no per-request hook is installed', () => {
    expect(new OAuthMetrics({ meterProvider: undefined, clientIdLabel: false }).live).toBe(false);
    expect(new OAuthMetrics({ meterProvider: testMeterProvider().meterProvider, clientIdLabel: false }).live).toBe(true);
  });

  it('refuses a bad metrics option at construction', async () => {
    await setUp();
    await expect(buildApp({ metrics: { meterProvider: {} as never } })).rejects.toThrow(TypeError);
    await expect(buildApp({ metrics: { clientIdLabel: 'yes' as never } })).rejects.toThrow(TypeError);
  });

  it('counts the guard decisions of a resource server (remote guards) too', async () => {
    await setUp();
    const provider = testMeterProvider();
    const rs = createResourceServer({ issuer: 'https://auth.example', audience: 'https://orders.example', logger: memoryLogger(), metrics: { meterProvider: provider.meterProvider } });
    try {
      const app = express().get('/orders', rs.requireScope('read'), (_req, res) => res.end()).use(oauthErrorHandler());
      expect((await request(app).get('/orders')).status).toBe(401);
      expect((await request(app).get('/orders?access_token=x')).status).toBe(400);
      const decisions = (await provider.collect()).get(METRIC_NAMES.guardDecisions);
      expect(valueOf(decisions, { result: 'denied', error: 'missing_token' })).toBe(1);
      expect(valueOf(decisions, { result: 'denied', error: 'invalid_request' })).toBe(1);
    } finally {
      rs.close();
    }
  });
});
