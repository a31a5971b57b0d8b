// Interoperability: express-oauth2-jwt-bearer, a foreign RFC 9068 validator, accepts our tokens through our discovery document and JWKS.
import express from 'express';
import request from 'supertest';
import { auth } from 'express-oauth2-jwt-bearer';
import { listen, startIssuer, type TestIssuer } from '../remote-helpers';

const ORDERS = 'https://orders.internal';
let iss: TestIssuer;
beforeEach(async () => {
  iss = await startIssuer();
});
afterEach(() => iss.close());

describe('foreign RFC 9068 validator', () => {
  it('express-oauth2-jwt-bearer in strict mode accepts our access token (RFC 9068 §4)', async () => {
    // The library refuses plain-http issuers only when NODE_ENV is "production"; jest runs with "test".
    const app = express();
    app.get('/orders', auth({ issuerBaseURL: iss.issuer, audience: ORDERS, strict: true }), (req, res) => {
      // Both libraries declare req.auth; at run time it is express-oauth2-jwt-bearer's here.
      const { payload } = (req as unknown as { auth: { payload: Record<string, unknown> } }).auth;
      res.json({ sub: payload.sub, scope: payload.scope });
    });
    const http = await listen(app);
    try {
      const { client, clientSecret } = await iss.oauth.registry.create({ name: 'caller', scopes: 'read', audiences: [ORDERS] });
      const token = await iss.token(client.id, clientSecret, { resource: ORDERS });
      const res = await request(http.url).get('/orders').auth(token, { type: 'bearer' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ sub: client.id, scope: 'read' });

      const other = await iss.token(client.id, clientSecret);
      expect((await request(http.url).get('/orders').auth(other, { type: 'bearer' })).status).toBe(401);
    } finally {
      await http.close();
    }
  });
});
