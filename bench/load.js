// The load generator, in its own process: autocannon warm-up then a measured run against one server; every response's status is counted.
'use strict';
const autocannon = require('autocannon');

function run(opts) {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** The first response with an unexpected status, to say why a case failed. */
let firstUnexpected;

/**
 * Where the next request takes its variant (e.g. a first-contact client, or a token of a pool). One
 * cursor for the warm-up and the measured run: restarting at 0 for the measured run would send again
 * the variants the warm-up sent (a first-contact client the server already remembers, a token its
 * cache still holds). autocannon calls `setupRequest` once per request it writes.
 */
const cursor = { next: 0, sent: 0, seen: new Set() };

/**
 * `spec.variants`: cycled through in order. With `spec.unique`, each variant may be sent once only:
 * past the end the last one is sent again, so `distinct` falls below `sent` and the case fails.
 */
function requests(spec, expect) {
  const variants = spec.variants ?? [{}];
  return [
    {
      method: spec.method,
      path: spec.path,
      setupRequest(req) {
        let i = cursor.next++;
        if (i >= variants.length) {
          i = spec.unique ? variants.length - 1 : i % variants.length;
        }
        cursor.sent++;
        cursor.seen.add(i);
        const v = variants[i];
        return { ...req, headers: { ...spec.headers, ...v.headers }, ...(v.body ?? spec.body ? { body: v.body ?? spec.body } : {}) };
      },
      onResponse(status, body) {
        if (status !== expect && firstUnexpected === undefined) firstUnexpected = `${status} ${String(body).slice(0, 200)}`;
      },
    },
  ];
}

process.once('message', async ({ url, spec, expect, connections, warmup, duration }) => {
  try {
    const base = { url, connections, timeout: 30, requests: requests(spec, expect) };
    const warm = await run({ ...base, duration: warmup });
    // The orchestrator waits until the server has answered every warm-up request still queued (a
    // closed connection's request can still wait for a bcrypt slot) before the measured run starts.
    process.send({ type: 'warmed' });
    await new Promise((resolve) => process.once('message', resolve));
    const measuredFrom = cursor.sent;
    const r = await run({ ...base, requests: requests(spec, expect), duration });
    const statuses = {};
    for (const result of [warm, r]) {
      for (const [code, { count }] of Object.entries(result.statusCodeStats)) statuses[code] = (statuses[code] ?? 0) + count;
    }
    process.send({
      type: 'result',
      result: {
        rps: r.requests.average,
        total: r.requests.total,
        p50: r.latency.p50,
        p99: r.latency.p99,
        statuses,
        errors: warm.errors + r.errors,
        timeouts: warm.timeouts + r.timeouts,
        firstUnexpected,
        // What the load generator wrote, warm-up included: with `unique`, `distinct` must equal `sent`.
        sent: { total: cursor.sent, measured: cursor.sent - measuredFrom, distinct: cursor.seen.size, variants: spec.variants?.length ?? 1 },
      },
    });
  } catch (err) {
    process.send({ type: 'error', message: String(err && err.message) });
  }
});
