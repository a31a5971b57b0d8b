// Benchmark: unknown client_id vs wrong secret timing distributions, and a valid client's token requests during a wrong-secret flood (ratios against a baseline in the same run).
// Run: npm run bench:abuse   (compiles with tsconfig.bench.json, binds 127.0.0.1 only, stops by itself)
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { createOAuth, oauthErrorHandler, type OAuthOptions } from '../lib';

const SAMPLES = Number(process.env.SAMPLES ?? 60);
const FLOOD = Number(process.env.FLOOD ?? 200);
const VALID = Number(process.env.VALID ?? 20);

async function start(options: OAuthOptions) {
  const dir = mkdtempSync(join(tmpdir(), 'ecc-bench-'));
  const oauth = createOAuth({ issuer: 'https://auth.bench', database: join(dir, 'oauth.sqlite'), logger: { warn: () => {}, error: () => {} }, ...options });
  const app = express();
  app.set('trust proxy', true);
  app.use(oauth.tokenRouter());
  app.use(oauthErrorHandler());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth/token`;
  const post = async (id: string, secret: string, from: string) => {
    const started = process.hrtime.bigint();
    const res = await fetch(base, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        'x-forwarded-for': from,
      },
      body: 'grant_type=client_credentials',
    });
    await res.arrayBuffer();
    return { status: res.status, ms: Number(process.hrtime.bigint() - started) / 1e6 };
  };
  const stop = async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await oauth.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { oauth, post, stop };
}

function summary(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => (s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN).toFixed(1);
  return `p10 ${at(0.1)}  p50 ${at(0.5)}  p90 ${at(0.9)}  ms`;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function timing(): Promise<void> {
  const b = await start({ addressFailureLimit: 0, clientFailureLimit: 0 });
  const { client } = await b.oauth.registry.create({ name: 'bench', scopes: 'read' });
  const unknown: number[] = [];
  const wrong: number[] = [];
  await b.post('warm-up', 'x', '10.0.0.1');
  for (let i = 0; i < SAMPLES; i++) {
    // Interleaved, so drift in machine load hits both alike.
    unknown.push((await b.post(`unknown-${i}`, 'wrong-secret', '10.0.0.1')).ms);
    wrong.push((await b.post(client.id, 'wrong-secret', '10.0.0.1')).ms);
  }
  console.log(`unknown client_id  ${summary(unknown)}`);
  console.log(`wrong secret       ${summary(wrong)}`);
  console.log(`median ratio unknown/wrong: ${(median(unknown) / median(wrong)).toFixed(2)} (1.00 = indistinguishable)`);
  await b.stop();
}

async function flood(): Promise<void> {
  const b = await start({});
  const victim = await b.oauth.registry.create({ name: 'victim', scopes: 'read' });
  const valid = await b.oauth.registry.create({ name: 'valid', scopes: 'read' });
  await b.post(valid.client.id, valid.clientSecret, '10.5.0.1');
  const run = async (withFlood: boolean) => {
    const results: { status: number; ms: number }[] = [];
    for (let i = 0; i < VALID; i++) {
      const attack = withFlood
        ? Array.from({ length: FLOOD / VALID }, (_, j) =>
            b.post(j % 2 ? victim.client.id : `unknown-${i}-${j}`, `wrong-${j}`, `10.66.${i}.${j}`),
          )
        : [];
      const [mine] = await Promise.all([b.post(valid.client.id, valid.clientSecret, '10.5.0.1'), ...attack]);
      results.push(mine);
    }
    return results;
  };
  const baseline = await run(false);
  const flooded = await run(true);
  const ok = (r: { status: number }[]) => r.filter((x) => x.status === 200).length;
  console.log(`valid client, no flood:   ${ok(baseline)}/${VALID} tokens  ${summary(baseline.map((r) => r.ms))}`);
  console.log(`valid client, ${FLOOD} wrong secrets: ${ok(flooded)}/${VALID} tokens  ${summary(flooded.map((r) => r.ms))}`);
  console.log(`median latency ratio flood/baseline: ${(median(flooded.map((r) => r.ms)) / median(baseline.map((r) => r.ms))).toFixed(2)}`);
  await b.stop();
}

void (async () => {
  console.log(`# client authentication timing (bcrypt cost 10, ${SAMPLES} samples each)`);
  await timing();
  console.log(`\n# valid client during a wrong-secret flood (${FLOOD} attempts from many addresses, default limits)`);
  await flood();
})();
