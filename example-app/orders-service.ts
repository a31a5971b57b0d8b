// The second example service: an orders API with no database that checks the auth service's tokens from another process (discovery + JWKS).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import { createResourceServer, oauthErrorHandler, type ResourceServer } from '../lib';

/** What the orders service needs to know: where the issuer is and which audience it answers to. */
export interface OrdersServiceOptions {
  /** The auth service's issuer URL, e.g. `http://localhost:3000`. */
  issuer: string;
  /** This service's audience; clients ask for it with `resource=<audience>` at the token endpoint. */
  audience: string;
}

const ORDERS = [
  { id: 'o-1001', item: 'keyboard', quantity: 2 },
  { id: 'o-1002', item: 'monitor', quantity: 1 },
];

/**
 * Builds the orders app: `GET /orders` needs `orders:read`, `POST /orders` needs `orders:write`;
 * `GET /health` is open.
 */
export function buildOrdersService(options: OrdersServiceOptions): { app: Express; resourceServer: ResourceServer } {
  const resourceServer = createResourceServer({ issuer: options.issuer, audience: options.audience });
  const app = express();
  app.get('/health', (_req, res) => res.json({ ok: true }));
  app.get('/orders', resourceServer.requireScope('orders:read'), (req, res) => {
    res.json({ orders: ORDERS, caller: req.auth?.clientId });
  });
  app.post('/orders', resourceServer.requireScope('orders:write'), (req, res) => {
    res.status(201).json({ id: 'o-1003', caller: req.auth?.clientId });
  });
  app.use(oauthErrorHandler());
  return { app, resourceServer };
}

/** Starts the orders service on `host:port` (port 0 picks a free one); resolves with its URL and a stop function. */
export async function startOrdersService(
  options: OrdersServiceOptions & { port: number; host?: string },
): Promise<{ url: string; server: Server; stop: () => Promise<void> }> {
  const { app, resourceServer } = buildOrdersService(options);
  const host = options.host ?? '127.0.0.1';
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(options.port, host, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    server,
    stop: () =>
      new Promise<void>((resolve) => {
        resourceServer.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The commands a README or a start script prints for trying the service. */
export function ordersCurlExamples(ordersUrl: string, issuer: string, audience: string): string[] {
  return [
    `TOKEN=$(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials -d scope=orders:read -d resource=${audience} ${issuer}/oauth/token | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')`,
    `curl -H "Authorization: Bearer $TOKEN" ${ordersUrl}/orders`,
  ];
}
