// The load generator, in its own process: autocannon warm-up then a measured run against one server; every response's status is counted.
'use strict';
const autocannon = require('autocannon');

function run(opts) {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** Requests cycle through `variants` (e.g. one per first-contact client), each connection taking the next. */
function requests(spec) {
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
    },
  ];
}

process.once('message', async ({ url, spec, connections, warmup, duration }) => {
  try {
    const base = { url, connections, timeout: 30, requests: requests(spec) };
    const warm = await run({ ...base, duration: warmup });
    process.send({ type: 'measuring' });
    const r = await run({ ...base, requests: requests(spec), duration });
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
      },
    });
  } catch (err) {
    process.send({ type: 'error', message: String(err && err.message) });
  }
});
