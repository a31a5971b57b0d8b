// The example's metrics endpoint: an OpenTelemetry MeterProvider exported for Prometheus on 127.0.0.1, started before the services so their instruments are real.
'use strict';

const http = require('node:http');
const { metrics } = require('@opentelemetry/api');
const { MeterProvider } = require('@opentelemetry/sdk-metrics');
const { PrometheusExporter } = require('@opentelemetry/exporter-prometheus');
const { processEnvironment } = require('express-client-credentials/env');

/** The Prometheus exporter's customary port; it follows PORT (3000 → 9464) so two copies of the example do not collide. */
const PORT_OFFSET = 9464 - 3000;

/**
 * The metrics port: `METRICS_PORT`, else `PORT` + 6464 (9464 by default). `METRICS_PORT=0`, or `PORT=0`
 * without `METRICS_PORT`, picks a free port (as the orders service does beside `PORT=0`).
 *
 * @param {Record<string, string | undefined>} env
 */
function metricsPort(env) {
  const base = Number(env.PORT || 3000);
  const value = env.METRICS_PORT ?? (base === 0 ? '0' : String(base + PORT_OFFSET));
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`METRICS_PORT must be a port number, not ${JSON.stringify(value)}`);
  return port;
}

/**
 * Registers a global MeterProvider whose reader is a Prometheus exporter, and serves its text format
 * at `GET /metrics` on 127.0.0.1 only (metrics name clients and limits: not for the open network).
 * The library asks the global provider for its meter when an instance is created, so this service
 * starts first.
 *
 * @param {{ env?: Record<string, string | undefined>, print?: (line: string) => void }} [context]
 */
async function start({ env = processEnvironment(), print = console.log } = {}) {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  if (!metrics.setGlobalMeterProvider(provider)) throw new Error('another OpenTelemetry MeterProvider is already registered');
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/metrics' || req.url?.startsWith('/metrics?'))) return exporter.getMetricsRequestHandler(req, res);
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /metrics\n');
  });
  const close = async () => {
    await new Promise((resolve) => server.close(() => resolve(undefined)));
    metrics.disable();
    await provider.shutdown();
  };
  try {
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(metricsPort(env), '127.0.0.1', () => resolve(undefined));
    });
  } catch (err) {
    metrics.disable();
    await provider.shutdown();
    throw err;
  }
  const url = `http://127.0.0.1:${server.address().port}/metrics`;
  print(`metrics for Prometheus on ${url}`);
  return { name: 'metrics', url, server, close };
}

module.exports = { name: 'metrics', metricsPort, start };
