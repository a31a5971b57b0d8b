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

/** Requests cycle through `variants` (e.g. one per first-contact client), each connection taking the next. */
function requests(spec, expect) {
  let next = 0;
  const variants = spec.variants ?? [{}];
  return [
    {
      method: spec.method,
      path: spec.path,
      setupRequest(req) {
        const v = variants[next++ % variants.length];
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
      },
    });
  } catch (err) {
    process.send({ type: 'error', message: String(err && err.message) });
  }
});
