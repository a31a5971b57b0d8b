// healthRouter(): liveness and readiness endpoints for orchestrators (Kubernetes probes, load balancers).
import express, { type Request, type Response, type Router } from 'express';
import { checkReadiness, type HealthCheck } from '../core/observability/health';
import type { ResolvedHealthRouterOptions } from '../options';
import type { Logger } from '../options';

/**
 * `GET livenessPath`: 200 `{ "status": "ok" }` while the process answers. `GET readinessPath`: runs
 * `checks`; 200 `{ "status": "ok", "checks": {...} }` when all pass, else 503 with
 * `{ "status": "unavailable", "checks": { name: "ok" | "failed" } }`. Neither is cached. A failing
 * check is logged when readiness is lost, not on every probe, and never with detail in the response.
 */
export function createHealthRouter(checks: readonly HealthCheck[], options: ResolvedHealthRouterOptions, logger: Logger): Router {
  const router = express.Router();
  let wasReady = true;
  router.get(options.livenessPath, (_req: Request, res: Response) => {
    res.status(200).set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get(options.readinessPath, (_req: Request, res: Response) => {
    const failures: [string, unknown][] = [];
    checkReadiness(checks, options.checkTimeout, (name, err) => failures.push([name, err])).then(
      (report) => {
        if (!report.ready && wasReady) {
          for (const [name, err] of failures) logger.error(`readiness check ${name} failed`, err);
        }
        wasReady = report.ready;
        res
          .status(report.ready ? 200 : 503)
          .set('Cache-Control', 'no-store')
          .json({ status: report.ready ? 'ok' : 'unavailable', checks: report.checks });
      },
      // checkReadiness settles every check itself; this only guards against a bug becoming an unhandled rejection.
      () => res.status(503).set('Cache-Control', 'no-store').json({ status: 'unavailable', checks: {} }),
    );
  });
  return router;
}
