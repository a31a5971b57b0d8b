// `npm run bench:cli-list`: `client list --json` over 1,000 and 100,000 clients, peak RSS and time of the streaming CLI against a full read of the registry in the same run (issue 16).
'use strict';
const { spawn } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { SqliteStore } = require('../dist/store/sqlite');

const SIZES = (process.argv.find((a) => a.startsWith('--sizes='))?.slice(8) ?? '1000,20000,100000').split(',').map(Number);
const CLI = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
const PROBE = path.join(__dirname, 'rss-probe.js');
/** What a full read costs: every client in one array, printed at once (the CLI before issue 16). */
const FULL_READ = `
const { SqliteStore } = require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'store', 'sqlite'))});
const { clientView } = require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'core', 'admin', 'admin-views'))});
(async () => {
  const store = SqliteStore.open(process.argv[1]);
  const clients = await store.listClients();
  process.stdout.write(JSON.stringify(clients.map((c) => clientView(c, Date.now())), null, 2) + '\\n');
  await store.close();
})();`;

/**
 * Fills a database with `count` clients through the store's own database handle in one transaction:
 * a fixed hash stands in for bcrypt (the listing never compares secrets), so 100,000 take seconds.
 */
function fill(file, count) {
  const store = SqliteStore.open(file);
  const insertClient = store.db.prepare(
    `INSERT INTO clients (id, name, scopes, audiences, created_at, updated_at)
     VALUES (:id, :name, 'orders:read orders:write', 'https://orders.internal', :now, :now)`,
  );
  const insertSecret = store.db.prepare('INSERT INTO client_secrets (client_id, hash, created_at) VALUES (:id, :hash, :now)');
  const hash = '$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234';
  const now = Date.now();
  store.db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const id = i.toString(16).padStart(32, '0');
      insertClient.run({ id, name: `client ${i}`, now });
      insertSecret.run({ id, hash, now });
    }
  })();
  return store.close();
}

/** Runs a child with the RSS probe, counting (and dropping) its stdout; resolves peak RSS, bytes and seconds. */
function measure(args) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, ['-r', PROBE, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OAUTH_DB: '' } });
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk) => (bytes += chunk.length));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    // Bounded: a listing that hangs is a failure, not a wait.
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const peak = Number(/RSS_PEAK_BYTES=(\d+)/.exec(stderr)?.[1]);
      if (code !== 0 || !peak) return reject(new Error(`child failed (${code}): ${stderr.slice(0, 500)}`));
      resolve({ peakMb: peak / 2 ** 20, bytes, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    });
  });
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ecc-cli-list-'));
  const rows = [];
  try {
    for (const size of SIZES) {
      const file = path.join(dir, `clients-${size}.sqlite`);
      await fill(file, size);
      const streamed = await measure([CLI, 'client', 'list', '--json', '--db', file]);
      const full = await measure(['-e', FULL_READ, file]);
      rows.push({ size, streamed, full });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const base = rows[0];
  console.log('client list --json: peak RSS of the streaming CLI vs a full read, same machine, same run');
  console.log('clients   output MB   streamed RSS MB (x first size)   full-read RSS MB (x first size)   streamed s   full-read s');
  for (const { size, streamed, full } of rows) {
    console.log(
      [
        String(size).padStart(7),
        (streamed.bytes / 2 ** 20).toFixed(1).padStart(11),
        `${streamed.peakMb.toFixed(0)} (x${(streamed.peakMb / base.streamed.peakMb).toFixed(2)})`.padStart(32),
        `${full.peakMb.toFixed(0)} (x${(full.peakMb / base.full.peakMb).toFixed(2)})`.padStart(33),
        streamed.seconds.toFixed(2).padStart(12),
        full.seconds.toFixed(2).padStart(13),
      ].join(''),
    );
  }
  const last = rows[rows.length - 1];
  console.log(
    `RSS growth from ${base.size} to ${last.size} clients: streamed x${(last.streamed.peakMb / base.streamed.peakMb).toFixed(2)}, ` +
      `full read x${(last.full.peakMb / base.full.peakMb).toFixed(2)} (a flat listing stays near x1)`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
