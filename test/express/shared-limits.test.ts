// Failure limits shared by two instances through Redis or PostgreSQL (limiterStore, issue 12): a flood spread over the instances counts once. Needs OAUTH_TEST_REDIS_URL and OAUTH_TEST_PG_URL.
import { randomBytes } from 'node:crypto';
import express from 'express';
import type Redis from 'ioredis';
import { Pool } from 'pg';
import request from 'supertest';
import { createOAuth, oauthErrorHandler, type OAuth } from '../../lib';
import { buildApp, ISSUER, memoryLogger, type TestApp } from '../helpers';
import { dropKeys, readyRedis, REDIS_URL } from '../redis-helpers';
import { PG_URL, pgAvailable } from '../support/stores';

const url = REDIS_URL;
const describeRedis = url ? describe : describe.skip;

const GRANT = { grant_type: 'client_credentials' };

function appOf(oauth: OAuth) {
  const app = express();
  app.use(oauth.tokenRouter());
  app.use(oauthErrorHandler());
  return app;
}

/** Three wrong secrets spread over two instances, then the right one refused by both: the limit of 3 counted once. */
async function expectLockedOutEverywhere(first: TestApp, other: OAuth): Promise<void> {
  const { id, secret } = await first.createClient();
  const second = appOf(other);
  expect((await request(first.app).post('/oauth/token').auth(id, 'wrong-1').type('form').send(GRANT)).status).toBe(401);
  expect((await request(second).post('/oauth/token').auth(id, 'wrong-2').type('form').send(GRANT)).status).toBe(401);
  expect((await request(first.app).post('/oauth/token').auth(id, 'wrong-3').type('form').send(GRANT)).status).toBe(401);
  // Each instance alone has seen at most two failures; together they have seen the limit.
  const refused = await request(second).post('/oauth/token').auth(id, secret).type('form').send(GRANT);
  expect(refused.status).toBe(429);
  expect(refused.body).toEqual({
    error: 'invalid_client',
    error_description: expect.stringMatching(/^too many failed client authentications from this address; retry after \d+ s$/),
  });
  expect((await request(first.app).post('/oauth/token').auth(id, secret).type('form').send(GRANT)).status).toBe(429);
}

describeRedis('failure limits shared through Redis (issue 12)', () => {
  let redis: Redis;
  let prefix: string;
  let t: TestApp;
  let other: OAuth;

  beforeAll(async () => {
    redis = await readyRedis(url as string);
  });
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(async () => {
    prefix = `ecc-test:${randomBytes(6).toString('hex')}`;
    const limits = { addressFailureLimit: 3, addressFailureWindow: 600, clientFailureLimit: 0, limiterStore: { redis, keyPrefix: prefix } };
    t = await buildApp(limits);
    // A second instance on the same store file, as a second process behind the load balancer would be.
    other = createOAuth({ issuer: ISSUER, database: t.database, bcryptCost: 4, logger: memoryLogger(), ...limits });
  });
  afterEach(async () => {
    await other.close();
    await t.close();
    await dropKeys(redis, prefix);
  });

  it('counts failures through one instance on the other: the third wrong secret anywhere locks the address out everywhere', async () => {
    await expectLockedOutEverywhere(t, other);
  });

  it('mirrors a refusal Redis gave, so the address is refused before the store on its next request (issue 16.4)', async () => {
    const { id, secret } = await t.createClient();
    for (let i = 0; i < 3; i++) expect((await request(t.app).post('/oauth/token').auth(id, `wrong-${i}`).type('form').send(GRANT)).status).toBe(401);
    const second = appOf(other);
    expect((await request(second).post('/oauth/token').auth(id, secret).type('form').send(GRANT)).status).toBe(429);
    const getClient = jest.spyOn(other.server.store, 'getClient');
    const refused = await request(second).post('/oauth/token').auth(id, secret).type('form').send(GRANT);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe('invalid_client');
    expect(getClient).not.toHaveBeenCalled();
  });

  it('gives a success its charge back on every instance', async () => {
    const { id, secret } = await t.createClient();
    const second = appOf(other);
    for (let i = 0; i < 5; i++) {
      const app = i % 2 ? second : t.app;
      expect((await request(app).post('/oauth/token').auth(id, secret).type('form').send(GRANT)).status).toBe(200);
    }
    expect((await request(second).post('/oauth/token').auth(id, 'wrong').type('form').send(GRANT)).status).toBe(401);
  });

  it('charges no shared counter for a secret this instance already verified: a returning client costs no Redis step', async () => {
    const { id, secret } = await t.createClient();
    expect((await request(t.app).post('/oauth/token').auth(id, secret).type('form').send(GRANT)).status).toBe(200);
    // The first contact was charged in Redis (and given back): its counter is there.
    const counters = async () => (await redis.scan('0', 'MATCH', `${prefix}*`, 'COUNT', 1000))[1];
    expect(await counters()).not.toEqual([]);
    await dropKeys(redis, prefix);
    for (let i = 0; i < 3; i++) expect((await request(t.app).post('/oauth/token').auth(id, secret).type('form').send(GRANT)).status).toBe(200);
    expect(await counters()).toEqual([]);
    // A wrong secret is still charged, in Redis.
    expect((await request(t.app).post('/oauth/token').auth(id, 'wrong').type('form').send(GRANT)).status).toBe(401);
    expect(await counters()).not.toEqual([]);
  });
});

const describePg = pgAvailable() ? describe : describe.skip;

describePg('failure limits shared through PostgreSQL', () => {
  let pool: Pool;
  let table: string;
  let t: TestApp;
  let other: OAuth;

  beforeAll(() => {
    pool = new Pool({ connectionString: PG_URL, max: 4, connectionTimeoutMillis: 2000 });
  });
  afterAll(async () => {
    await pool.end();
  });
  beforeEach(async () => {
    table = `ecc_test_limits_${randomBytes(6).toString('hex')}`;
    const limits = { addressFailureLimit: 3, addressFailureWindow: 600, clientFailureLimit: 0, limiterStore: { postgres: pool, tableName: table } };
    t = await buildApp(limits);
    // A second instance on the same store file, as a second process behind the load balancer would be.
    other = createOAuth({ issuer: ISSUER, database: t.database, bcryptCost: 4, logger: memoryLogger(), ...limits });
  });
  afterEach(async () => {
    await other.close();
    await t.close();
    await pool.query(`DROP TABLE IF EXISTS "${table}"`);
  });

  it('counts failures through one instance on the other: the third wrong secret anywhere locks the address out everywhere', async () => {
    await expectLockedOutEverywhere(t, other);
    // One counter for the address, in the shared table, at the limit or past it.
    const { rows } = await pool.query<{ points: number }>(`SELECT points FROM "${table}" WHERE key LIKE 'ecc:auth:address:%'`);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.points).toBeGreaterThanOrEqual(3);
  });

  it('refuses a limiterStore with both or neither backend, and a table name that is not a plain identifier, when the instance is created', () => {
    const redis = { multi() {}, defineCommand() {} };
    expect(() => createOAuth({ issuer: ISSUER, database: t.database, limiterStore: { postgres: pool, redis } })).toThrow(
      new TypeError('limiterStore needs exactly one of redis and postgres'),
    );
    expect(() => createOAuth({ issuer: ISSUER, database: t.database, limiterStore: {} })).toThrow(new TypeError('limiterStore needs exactly one of redis and postgres'));
    expect(() => createOAuth({ issuer: ISSUER, database: t.database, limiterStore: { postgres: pool, tableName: 'Limits' } })).toThrow(
      new TypeError('limiterStore.tableName must be a plain lower-case identifier, not "Limits"'),
    );
    expect(() => createOAuth({ issuer: ISSUER, database: t.database, limiterStore: { postgres: {} } })).toThrow(
      new TypeError('limiterStore.postgres must be a node-postgres Pool'),
    );
  });
});
