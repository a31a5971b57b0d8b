// Benchmark: a never-verified valid client during a distributed wrong-secret flood (many loopback addresses, one request each): its success rate and latency against the fair share.
// Run: npm run bench:fairness   (compiles with tsconfig.bench.json, binds 127.0.0.1 and 127.30.x.y only — Linux routes all of 127/8 to lo —, stops by itself)
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { createOAuth, oauthErrorHandler } from '../lib';

/** Flooding addresses per round (127.30.<round>.1 ... .N, one request each), as in issue 19. */
const ADDRESSES = Number(process.env.ADDRESSES ?? 70);
/** Requests each flooding address sends at once. */
const PER_ADDRESS = Number(process.env.PER_ADDRESS ?? 1);
/** Rounds, each with a freshly registered valid client (never verified by this process) and fresh flooding addresses. */
const ROUNDS = Number(process.env.ROUNDS ?? 10);
/** The valid client sends its request this long after the flood started (ms): behind it in a first-come queue. */
const VALID_DELAY_MS = Number(process.env.VALID_DELAY_MS ?? 50);
const BASELINE = Number(process.env.BASELINE ?? 20);

interface Result {
  status: number;
  ms: number;
}

function post(port: number, from: string, id: string, secret: string): Promise<Result> {
  const started = process.hrtime.bigint();
  const body = 'grant_type=client_credentials';
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        localAddress: from,
        method: 'POST',
        path: '/oauth/token',
        agent: false,
        headers: {
          authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
        timeout: 60_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    req.end(body);
  });
}

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

void (async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecc-fair-'));
  const oauth = createOAuth({
    issuer: 'https://auth.bench',
    database: join(dir, 'oauth.sqlite'),
    logger: { warn: () => {}, error: () => {} },
  });
  const app = express();
  // No trust proxy: the address is the socket's, as for a server facing clients directly.
  app.use(oauth.tokenRouter());
  app.use(oauthErrorHandler());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as AddressInfo;
  const cores = oauth.server.options.maxConcurrentAuthentications;

  // One comparison, unloaded: a wrong secret for a real client, each from its own address (limits untouched).
  const probe = await oauth.registry.create({ name: 'probe', scopes: 'read' });
  await post(port, '127.29.0.1', 'warm-up', 'x');
  const single: number[] = [];
  for (let i = 0; i < BASELINE; i++) single.push((await post(port, `127.29.1.${i + 1}`, probe.client.id, 'wrong-secret')).ms);
  const compare = quantile(single, 0.5);

  const valid: Result[] = [];
  const flood: Result[] = [];
  /** Per round: ms from the flood's start until its last answer, to measure the comparison rate under this load. */
  const roundMs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const fresh = await oauth.registry.create({ name: `valid-${round}`, scopes: 'read' });
    const attack: Promise<Result>[] = [];
    const started = process.hrtime.bigint();
    for (let a = 1; a <= ADDRESSES; a++) {
      for (let k = 0; k < PER_ADDRESS; k++) {
        // A random, unknown client id per request: each costs the dummy comparison.
        attack.push(post(port, `127.30.${round}.${a}`, `flood-${round}-${a}-${k}`, 'wrong-secret'));
      }
    }
    await new Promise((r) => setTimeout(r, VALID_DELAY_MS));
    const mine = post(port, `127.31.${round}.1`, fresh.client.id, fresh.clientSecret);
    valid.push(await mine);
    flood.push(...(await Promise.all(attack)));
    roundMs.push(Number(process.hrtime.bigint() - started) / 1e6);
  }

  const count = (rs: Result[], status: number) => rs.filter((r) => r.status === status).length;
  const predicted = (ADDRESSES * compare) / cores;
  // Under the flood a comparison takes longer than unloaded (the loop, the pool and other processes
  // share the cores): the service time per comparison actually achieved, from the rounds' durations.
  const loadedCompare = (quantile(roundMs, 0.5) * cores) / (ADDRESSES * PER_ADDRESS + 1);
  const predictedLoaded = (ADDRESSES * loadedCompare) / cores;
  const latencies = valid.map((r) => r.ms);
  console.log(`# never-verified valid client during a distributed wrong-secret flood`);
  console.log(`${ADDRESSES} addresses x ${PER_ADDRESS} request(s), ${ROUNDS} rounds, ${cores} concurrent comparisons (cores), queue ${oauth.server.options.maxQueuedAuthentications}`);
  console.log(`one comparison, unloaded (median of ${BASELINE}): ${compare.toFixed(1)} ms`);
  console.log(`fair share predicted for the valid client: ${ADDRESSES} x ${compare.toFixed(1)} ms / ${cores} = ${predicted.toFixed(0)} ms`);
  console.log(`valid client: ${count(valid, 200)}/${valid.length} tokens (${(100 * count(valid, 200)) / valid.length} %), statuses ${JSON.stringify(valid.map((r) => r.status))}`);
  console.log(`one comparison under the flood (median round ${quantile(roundMs, 0.5).toFixed(0)} ms x ${cores} / ${ADDRESSES * PER_ADDRESS + 1} requests): ${loadedCompare.toFixed(1)} ms; fair share at that rate: ${predictedLoaded.toFixed(0)} ms`);
  console.log(`valid client latency: p50 ${quantile(latencies, 0.5).toFixed(0)} ms  p99 ${quantile(latencies, 0.99).toFixed(0)} ms  (p99 / fair share: ${(quantile(latencies, 0.99) / predicted).toFixed(2)} unloaded, ${(quantile(latencies, 0.99) / predictedLoaded).toFixed(2)} at the flood's rate)`);
  console.log(`whole flood drained (median round): ${quantile(roundMs, 0.5).toFixed(0)} ms — what a first-come queue with room would make the valid client wait`);
  console.log(`flood: ${count(flood, 401)} x 401, ${count(flood, 503)} x 503, ${count(flood, 429)} x 429, ${flood.length - count(flood, 401) - count(flood, 503) - count(flood, 429)} other`);
  await new Promise<void>((r) => server.close(() => r()));
  await oauth.close();
  rmSync(dir, { recursive: true, force: true });
})();
