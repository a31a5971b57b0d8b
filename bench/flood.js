// The flood load generator (issue 16.4), in its own process: a valid client's closed-loop connections from one loopback address, alone and then beside a wrong-secret flood from another; node:http with each side's source address bound.
'use strict';
const http = require('node:http');

/**
 * `connections` closed-loop workers sending `spec` from `localAddress` (Linux routes all of 127/8 to
 * lo, so 127.0.0.2 is a second client address with no set-up) until `stop()`; each response's status,
 * and when it arrived, is counted into `tally` while `tally.counting` is on.
 */
function side(url, spec, { connections, localAddress }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, localAddress });
  const tally = { counting: false, ok: 0, failed: 0, statuses: {}, latencies: [], firstUnexpected: undefined };
  let running = true;
  const target = new URL(spec.path, url);
  const once = () =>
    new Promise((resolve) => {
      const started = process.hrtime.bigint();
      const req = http.request(target, { method: spec.method, headers: { ...spec.headers, 'content-length': Buffer.byteLength(spec.body) }, agent, localAddress }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          if (tally.counting) {
            tally.statuses[res.statusCode] = (tally.statuses[res.statusCode] ?? 0) + 1;
            if (res.statusCode === spec.expect) {
              tally.ok++;
              tally.latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
            } else {
              tally.failed++;
              tally.firstUnexpected ??= `${res.statusCode} ${body.slice(0, 200)}`;
            }
          }
          resolve();
        });
      });
      req.on('error', (err) => {
        if (tally.counting) {
          tally.failed++;
          tally.statuses.error = (tally.statuses.error ?? 0) + 1;
          tally.firstUnexpected ??= String(err.message);
        }
        // A socket error must not spin: the next request waits a little.
        setTimeout(resolve, 10);
      });
      req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
      req.end(spec.body);
    });
  const workers = Array.from({ length: connections }, async () => {
    while (running) await once();
  });
  return {
    tally,
    async stop() {
      running = false;
      await Promise.all(workers);
      agent.destroy();
    },
  };
}

const sleep = (s) => new Promise((r) => setTimeout(r, s * 1000));
const percentile = (values, p) => {
  const v = [...values].sort((a, b) => a - b);
  return v.length ? Math.round(v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))] * 100) / 100 : NaN;
};

/** Counts `tally` for `seconds`; returns what it counted (a fresh tally per phase). */
async function phase(tally, seconds) {
  Object.assign(tally, { counting: true, ok: 0, failed: 0, statuses: {}, latencies: [] });
  const started = process.hrtime.bigint();
  await sleep(seconds);
  tally.counting = false;
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  return { rps: tally.ok / elapsed, ok: tally.ok, failed: tally.failed, statuses: { ...tally.statuses }, p50: percentile(tally.latencies, 50), p99: percentile(tally.latencies, 99) };
}

process.once('message', async ({ url, valid, flood, warmup, duration }) => {
  try {
    // Quiet: the valid client alone (after a warm-up), then the flood joins (after its own warm-up).
    const client = side(url, valid, valid);
    await sleep(warmup);
    const quiet = await phase(client.tally, duration);
    const attacker = side(url, flood, flood);
    await sleep(warmup);
    const [flooded, attack] = await Promise.all([phase(client.tally, duration), phase(attacker.tally, duration)]);
    await Promise.all([client.stop(), attacker.stop()]);
    process.send({
      type: 'result',
      result: { quiet, flooded, attack, firstUnexpected: client.tally.firstUnexpected, attackFirstUnexpected: attacker.tally.firstUnexpected },
    });
  } catch (err) {
    process.send({ type: 'error', message: String(err && err.message) });
  }
});
