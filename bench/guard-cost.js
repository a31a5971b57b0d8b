// `node bench/guard-cost.js`: CPU µs per call of what a cached token still costs in-process (RS256, as the HTTP bench), on requests shaped as Express 5 hands them over (a hidden class of their own), beside the floors any guard pays; cases alternate, medians of the rounds' differences.
'use strict';
const { mkdtempSync, rmSync } = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const lib = require('../dist');

const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const N = Number(arg('n', '50000'));
const ROUNDS = Number(arg('rounds', '21'));
/**
 * `--evict=KB`: before each call the harness writes one byte in every cache line of a KB-sized
 * buffer, as a request's HTTP work would before the guard runs, so what the guard reads comes from
 * farther away than the L1 cache it finds warm in a tight loop. Its cost is the harness's, subtracted.
 */
const EVICT_LINES = (Number(arg('evict', '0')) * 1024) / 64;
const evictBuffer = new Uint8Array(EVICT_LINES * 64);
let evictRound = 0;
function evict() {
  evictRound = (evictRound + 1) & 255;
  for (let i = 0; i < evictBuffer.length; i += 64) evictBuffer[i] = evictRound;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * A request as a route middleware receives it from Express 5: an IncomingMessage whose prototype
 * Express has replaced (`Object.setPrototypeOf(req, app.request)`), after which every property the
 * router adds (next, baseUrl, originalUrl, params, route) gives the object a hidden class of its own
 * (V8 keeps no transitions from a map made by a prototype change). So each property a middleware
 * reads from req is an inline-cache miss and each it adds builds a new map, on every request, as over
 * HTTP; a plain object literal (what this bench used before) hides both. Each request gets its own
 * Authorization string, as from the HTTP parser.
 */
function expressShapedRequest(proto, socket, header) {
  const req = new http.IncomingMessage(socket);
  req.method = 'GET';
  req.url = '/api/items';
  req.rawHeaders = ['Host', '127.0.0.1:9999', 'Authorization', header.toString('latin1'), 'Connection', 'keep-alive'];
  req.res = {};
  Object.setPrototypeOf(req, proto);
  req.next = undefined;
  req.baseUrl = '';
  req.originalUrl = req.url;
  req.params = {};
  req.route = undefined;
  return req;
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ecc-guard-cost-'));
  const oauth = lib.createOAuth({ issuer: 'http://127.0.0.1:9999', database: path.join(dir, 'g.sqlite'), bcryptCost: 4, logger: { warn() {}, error() {} } });
  try {
    const { client } = await oauth.registry.create({ name: 'g', scopes: 'read' });
    const { access_token: token } = await oauth.server.issueToken(client, { grant_type: 'client_credentials' });
    const header = Buffer.from(`Bearer ${token}`);
    const proto = Object.create(http.IncomingMessage.prototype, { app: { value: {}, enumerable: true, configurable: true, writable: true } });
    const socket = { encrypted: false };
    const request = () => expressShapedRequest(proto, socket, header);
    const guard = oauth.requireScope('read');
    const router = oauth.tokenRouter();
    // The full path once, so the token is cached (it reads req.headers, which Node builds from its raw count).
    await new Promise((resolve, reject) => {
      const req = request();
      Object.defineProperty(req, 'headers', { value: { authorization: header.toString('latin1') } });
      guard(req, {}, (err) => (err ? reject(err) : resolve()));
    });
    const auth = Object.freeze({ clientId: 'floor', scopes: Object.freeze(['read']), claims: Object.freeze({}) });
    let failed;
    const next = (err) => {
      if (err) failed = err;
    };
    const cases = {
      // The harness (a request built, a call): subtracted from the others.
      'a middleware that only calls next()': (req) => next(),
      // What any guard pays that hands on its result as req.auth: a property added, so a new map.
      'a middleware that only sets req.auth': (req) => {
        req.auth = auth;
        next();
      },
      // And reading the two things any RFC 6750 guard must read: the Authorization header and the URI.
      'the same, reading the header and the URI first': (req) => {
        let value;
        const raw = req.rawHeaders;
        for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 13 && raw[i].toLowerCase() === 'authorization') value = raw[i + 1];
        if (value === undefined || req.originalUrl.includes('?')) throw new Error('floor: no token');
        req.auth = auth;
        next();
      },
      'requireScope() with a cached token': (req) => guard(req, {}, next),
      // tokenRouter() at the root sees every request first and passes on those not for it.
      'tokenRouter() passing a request on': (req) => router(req, {}, next),
    };
    const names = Object.keys(cases);
    const cpu = Object.fromEntries(names.map((name) => [name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      // The order rotates, so no case always follows the same one.
      for (let k = 0; k < names.length; k++) {
        const name = names[(k + r) % names.length];
        const run = cases[name];
        const start = process.cpuUsage();
        if (EVICT_LINES > 0) {
          for (let i = 0; i < N; i++) {
            const req = request();
            evict();
            run(req);
          }
        } else {
          for (let i = 0; i < N; i++) run(request());
        }
        const used = process.cpuUsage(start);
        if (failed) throw failed;
        cpu[name].push((used.user + used.system) / N);
      }
    }
    const harness = cpu[names[0]];
    const evicting = EVICT_LINES > 0 ? `, ${EVICT_LINES / 16} KB written before each call` : '';
    console.log(`| case (Express-shaped requests${evicting}, ${ROUNDS} rounds of ${N}) | CPU µs per call | over the harness, µs (median of the rounds' differences) |`);
    console.log('|---|--:|--:|');
    for (const name of names) {
      const deltas = cpu[name].map((x, k) => x - harness[k]);
      console.log(`| ${name} | ${median(cpu[name]).toFixed(2)} | ${median(deltas).toFixed(2)} |`);
    }
  } finally {
    await oauth.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
