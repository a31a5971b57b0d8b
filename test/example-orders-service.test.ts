// The example orders service, loaded as Express loads its examples: a second server with no database guarded by the remote guard.
import request from 'supertest';
import { startOrdersService } from '../example-app/orders-service';
import { startIssuer, type TestIssuer } from './remote-helpers';

const AUDIENCE = 'https://orders.example';
let iss: TestIssuer;
beforeEach(async () => {
  iss = await startIssuer();
});
afterEach(() => iss.close());

describe('example orders service', () => {
  it('serves orders to a token for its audience and refuses the rest', async () => {
    const orders = await startOrdersService({ issuer: iss.issuer, audience: AUDIENCE, port: 0 });
    try {
      const { client, clientSecret } = await iss.oauth.registry.create({
        name: 'shop',
        scopes: 'orders:read',
        audiences: [AUDIENCE],
      });
      const token = await iss.token(client.id, clientSecret, { resource: AUDIENCE });
      const ok = await request(orders.url).get('/orders').auth(token, { type: 'bearer' });
      expect(ok.status).toBe(200);
      expect(ok.body.caller).toBe(client.id);
      expect(ok.body.orders).toHaveLength(2);

      const write = await request(orders.url).post('/orders').auth(token, { type: 'bearer' });
      expect(write.status).toBe(403);
      expect(write.body).toEqual({ error: 'insufficient_scope', error_description: 'this resource needs the scopes orders:write' });

      const missing = await request(orders.url).get('/orders');
      expect(missing.status).toBe(401);
      expect(missing.headers['www-authenticate']).toBe('Bearer realm="oauth"');
    } finally {
      await orders.stop();
    }
  });
});
