// The example orders service, loaded as Express loads its examples: a second server with no database guarded by the remote guard.
import request from 'supertest';
import { startIssuer, type TestIssuer } from './remote-helpers';

interface OrdersExample {
  start(context: {
    env: Record<string, string | undefined>;
    print: (line: string) => void;
    running?: { issuer?: string; url?: string; demo?: { clientId: string; clientSecret: string } }[];
  }): Promise<{ name: string; url: string; close(): Promise<void> }>;
}

// The example imports the built package by its name, as an application would.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const orders = require('../example-app/orders') as OrdersExample;

const AUDIENCE = 'https://orders.example';
let iss: TestIssuer;
beforeEach(async () => {
  iss = await startIssuer();
});
afterEach(() => iss.close());

describe('example orders service', () => {
  it('serves orders only to tokens minted for its audience (RFC 8707) with the scope each route needs', async () => {
    const lines: string[] = [];
    const service = await orders.start({
      env: { ORDERS_PORT: '0', ORDERS_AUDIENCE: AUDIENCE },
      print: (line) => lines.push(line),
      running: [{ issuer: iss.issuer }],
    });
    try {
      expect(lines.join('\n')).toContain(`resource=${AUDIENCE}`);
      const { client, clientSecret } = await iss.oauth.registry.create({ name: 'shop', scopes: 'read', audiences: [AUDIENCE] });

      const token = await iss.token(client.id, clientSecret, { resource: AUDIENCE });
      const ok = await request(service.url).get('/orders').auth(token, { type: 'bearer' });
      expect(ok.status).toBe(200);
      expect(ok.body.caller).toBe(client.id);
      expect(ok.body.orders).toHaveLength(2);

      const write = await request(service.url).post('/orders').auth(token, { type: 'bearer' });
      expect(write.status).toBe(403);
      expect(write.body).toEqual({ error: 'insufficient_scope', error_description: 'this resource needs the scopes write' });

      const forIssuer = await iss.token(client.id, clientSecret);
      const wrongAudience = await request(service.url).get('/orders').auth(forIssuer, { type: 'bearer' });
      expect(wrongAudience.status).toBe(401);
      expect(wrongAudience.body.error).toBe('invalid_token');

      const missing = await request(service.url).get('/orders');
      expect(missing.status).toBe(401);
      expect(missing.headers['www-authenticate']).toBe('Bearer realm="oauth"');
      expect(missing.headers).not.toHaveProperty('x-powered-by');
      expect((await request(service.url).get('/health')).headers).not.toHaveProperty('x-powered-by');
    } finally {
      await service.close();
    }
  });

  it('calls the items service with its own token from the token client: one token request for a burst of calls', async () => {
    const { client: caller, clientSecret: callerSecret } = await iss.oauth.registry.create({ name: 'shop', scopes: 'read', audiences: [AUDIENCE] });
    const { client: ordersClient, clientSecret: ordersSecret } = await iss.oauth.registry.create({ name: 'orders service', scopes: 'read' });
    const lines: string[] = [];
    const service = await orders.start({
      env: { ORDERS_PORT: '0', ORDERS_AUDIENCE: AUDIENCE, ITEMS_URL: iss.issuer, ORDERS_CLIENT_ID: ordersClient.id, ORDERS_CLIENT_SECRET: ordersSecret },
      print: (line) => lines.push(line),
      running: [{ issuer: iss.issuer }],
    });
    try {
      expect(lines.join('\n')).toContain(`GET  /catalog`);
      const token = await iss.token(caller.id, callerSecret, { resource: AUDIENCE });
      const before = iss.hits.get('/oauth/token') ?? 0;
      const answers = await Promise.all(Array.from({ length: 10 }, () => request(service.url).get('/catalog').auth(token, { type: 'bearer' })));
      for (const res of answers) {
        expect(res.status).toBe(200);
        // The items service saw the orders service's token, not the caller's.
        expect(res.body.auth.clientId).toBe(ordersClient.id);
      }
      expect((iss.hits.get('/oauth/token') ?? 0) - before).toBe(1);

      const anonymous = await request(service.url).get('/catalog');
      expect(anonymous.status).toBe(401);
    } finally {
      await service.close();
    }
  });

  it('answers 502 without a stack trace when its own credentials are refused', async () => {
    const { client: caller, clientSecret: callerSecret } = await iss.oauth.registry.create({ name: 'shop', scopes: 'read', audiences: [AUDIENCE] });
    const service = await orders.start({
      env: { ORDERS_PORT: '0', ORDERS_AUDIENCE: AUDIENCE, ITEMS_URL: iss.issuer, ORDERS_CLIENT_ID: 'nobody', ORDERS_CLIENT_SECRET: 'wrong' },
      print: () => undefined,
      running: [{ issuer: iss.issuer }],
    });
    try {
      const token = await iss.token(caller.id, callerSecret, { resource: AUDIENCE });
      const res = await request(service.url).get('/catalog').auth(token, { type: 'bearer' });
      expect(res.status).toBe(502);
      expect(res.body).toEqual({ error: 'bad_gateway', error_description: 'no token for the items service (invalid_client)' });
    } finally {
      await service.close();
    }
  });
});
