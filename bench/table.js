// The side-by-side Markdown table of one run (or of the medians of several): req/s, latency, ratios to bare Express and to each peer, targets.
'use strict';

/** Short names of the peers in the "vs peers" column. */
const SHORT = [
  [/^oauth2orize/, 'oauth2orize'],
  [/^@node-oauth/, 'node-oauth'],
  [/^express-oauth2-jwt-bearer/, 'jwt-bearer'],
  [/^express-jwt/, 'express-jwt'],
];
const short = (name) => SHORT.find(([re]) => re.test(name))?.[1] ?? name;

/** Requests per second of the bare Express route `name` (GET, or POST with a form body): the mean of its runs at the start and at the end. */
function ceiling(rows, name) {
  const bare = rows.filter((r) => r.group === 'ceiling' && r.ceiling === name && !r.failed && r.rps);
  return bare.length ? bare.reduce((s, r) => s + r.rps, 0) / bare.length : NaN;
}

/** Server CPU µs per request of the bare Express route `name`: the mean of its runs at the start and at the end. */
function ceilingCpu(rows, name) {
  const bare = rows.filter((r) => r.group === 'ceiling' && r.ceiling === name && !r.failed && r.cpuUsPerRequest);
  return bare.length ? bare.reduce((s, r) => s + r.cpuUsPerRequest, 0) / bare.length : NaN;
}

const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–');
const ratio = (n) => (!Number.isFinite(n) ? '–' : n >= 10 ? `${fmt(n)}×` : n >= 0.1 ? `${fmt(n, 2)}×` : `${fmt(n, 3)}×`);

const BASELINE_SHORT = { 'bare Express GET': 'GET', 'bare Express POST, form body': 'POST' };

/**
 * Each target of the issues with the value this run reached, by req/s (`value`) and by server CPU
 * per response (`valueCpu`, the steadier of the two on a shared machine). A failed or unmeasured case
 * has no value, so its target shows as not met. `bound` rows are no target: they show what the target
 * beside them could reach at most in the same run.
 */
function targets(rows) {
  // Only measured rows count: a failed case's partial figures must not meet a target.
  const by = (name) => rows.find((r) => r.name === name && !r.failed && !r.pending);
  const x = (name) => {
    const r = by(name);
    return (r?.rps ?? NaN) / ceiling(rows, r?.baseline);
  };
  const xCpu = (name) => {
    const r = by(name);
    return ceilingCpu(rows, r?.baseline) / (r?.cpuUsPerRequest ?? NaN);
  };
  /** `name`'s throughput as a share of row `of`'s, by req/s and by CPU per response (of's CPU ÷ name's). */
  const share = (name, of) => ({ value: (by(name)?.rps ?? NaN) / (by(of)?.rps ?? NaN), valueCpu: (by(of)?.cpuUsPerRequest ?? NaN) / (by(name)?.cpuUsPerRequest ?? NaN) });
  /** The worse of the Basic and body cases. */
  const worst = (names, of) => {
    const each = names.map((n) => share(n, of));
    return { value: Math.min(...each.map((e) => e.value)), valueCpu: Math.min(...each.map((e) => e.valueCpu)) };
  };
  const first = by('ours: token, first-contact clients (bcrypt), RS256');
  const firstPeers = rows.find((r) => r.name === 'ours: token, first-contact clients (bcrypt), RS256')?.peers ?? [];
  const tokenPeers = firstPeers.map(by).filter(Boolean);
  const returning = (alg) => [`ours: token, returning client, Basic, ${alg}`, `ours: token, returning client, body, ${alg}`];
  const guard = 'ours: guarded route, in-process guard, one token (cached)';
  const afterRouter = 'ours: guarded route after tokenRouter() at the root, one token (cached)';
  const remote = 'ours: guarded route, remote guard (JWKS), one token (cached)';
  const oidc = 'node-oidc-provider: token, plain secret, RS256 JWT access token';
  const signing = 'bare signing rate, RS256, no HTTP';
  const signedPost = 'bare Express POST, form body + RS256 signature';
  const esSignedPost = 'bare Express POST, form body + ES256 signature';
  // Issue 16.4: a refusal by the address limit against the grant of the same request shape (Basic).
  const refused = 'ours: token, refused by the address failure limit (Basic, RS256)';
  const refusalVsGrant = (alg) => ({
    target: `token, refusal by the address failure limit ≤ 1/5 of a grant (Basic, ${alg}): grant ÷ refusal ≥ 5×`,
    ...share(refused, `ours: token, returning client, Basic, ${alg}`),
    goal: 5,
  });
  const flood = rows.find((r) => r.flood && r.group === 'flood' && !r.name.includes('refusalDelay 0') && !r.failed);
  return [
    // Issue 16.2: the token endpoint at the signing limit, ahead of every peer.
    { target: 'token, returning client, RS256 ≥ 0.8× the bare signing limit (RS256 signatures/s on the same core)', ...worst(returning('RS256'), signing), goal: 0.8 },
    { target: 'bound: bare Express POST + RS256 signature ÷ the bare signing limit', ...share(signedPost, signing), goal: 0.8, bound: true },
    { target: 'token, returning client, RS256 ÷ bare Express POST + RS256 signature', ...worst(returning('RS256'), signedPost), goal: 1, bound: true },
    { target: 'token, returning client, ES256 ≥ 0.45× bare Express POST', value: Math.min(...returning('ES256').map(x)), valueCpu: Math.min(...returning('ES256').map(xCpu)), goal: 0.45 },
    { target: 'bound: bare Express POST + ES256 signature ÷ bare Express POST', value: x(esSignedPost), valueCpu: xCpu(esSignedPost), goal: 0.45, bound: true },
    {
      // A peer that also signs an RS256 JWT per request, with a plain (not hashed) secret.
      target: 'token, returning client, RS256 > node-oidc-provider',
      value: Math.min(...returning('RS256').map((n) => by(n)?.rps ?? NaN)) / (by(oidc)?.rps ?? NaN),
      valueCpu: (by(oidc)?.cpuUsPerRequest ?? NaN) / Math.max(...returning('RS256').map((n) => by(n)?.cpuUsPerRequest ?? NaN)),
      goal: 1,
    },
    {
      target: 'token, first contact ≥ the peers’ bcrypt path',
      value: (first?.rps ?? NaN) / Math.max(...tokenPeers.map((r) => r.rps)),
      valueCpu: Math.min(...tokenPeers.map((r) => r.cpuUsPerRequest)) / (first?.cpuUsPerRequest ?? NaN),
      goal: 1,
    },
    { target: 'token, first contact: event-loop delay p99 < 10 ms', value: first?.eventLoopDelay?.p99 ?? NaN, valueCpu: NaN, goal: 10, below: true },
    // Issue 16.3: the guard at the ceiling.
    { target: 'guarded route, in-process guard, one token (cached) ≥ 0.95× bare Express GET', value: x(guard), valueCpu: xCpu(guard), goal: 0.95 },
    { target: 'guarded route, remote guard (JWKS), one token (cached) ≥ 0.9× bare Express GET', value: x(remote), valueCpu: xCpu(remote), goal: 0.9 },
    { target: 'guarded route after tokenRouter() at the root, one token (cached) ≥ 0.9× bare Express GET', value: x(afterRouter), valueCpu: xCpu(afterRouter), goal: 0.9 },
    refusalVsGrant('RS256'),
    refusalVsGrant('ES256'),
    // Issue 16.4: the flood case with the default options (refusals held by refusalDelay).
    { target: 'token, valid client under a wrong-secret flood ≥ 0.6× its quiet rate', value: flood?.flood?.ratio ?? NaN, valueCpu: NaN, goal: 0.6 },
    { target: 'token, valid client under a wrong-secret flood: failures ≤ 1 %', value: flood?.flood?.failureRate ?? NaN, valueCpu: NaN, goal: 0.01, atMost: true, percent: true },
  ];
}

/**
 * Adds each row's ratios, computed within the run: `xBare` (req/s ÷ its bare Express baseline),
 * `xBareCpu` (the baseline's server CPU per request ÷ the row's: what throughput would be on a core
 * of its own, since other processes on the core move req/s far more than CPU per request) and `vs`
 * (req/s ÷ each peer's, for our rows), and the run's target values. Medians over runs are taken of
 * these.
 */
function annotate(run) {
  const { rows } = run;
  const annotated = rows.map((r) => {
    if (r.pending || r.failed) return r;
    const vs = {};
    for (const p of r.peers ?? []) {
      const peer = rows.find((x) => x.name === p);
      if (peer?.rps && !peer.failed) vs[short(p)] = r.rps / peer.rps;
    }
    const base = r.baseline ?? r.ceiling;
    return { ...r, xBare: r.rps / ceiling(rows, base), xBareCpu: ceilingCpu(rows, base) / r.cpuUsPerRequest, vs };
  });
  return {
    ...run,
    rows: annotated,
    targets: targets(rows).map(({ target, value, valueCpu, goal, below, bound, atMost, percent }) => ({ target, value, valueCpu, goal, below, bound, atMost, percent })),
  };
}

function showTarget(t, value) {
  if (!Number.isFinite(value)) return '–';
  if (t.percent) return `${fmt(value * 100, 2)} %`;
  if (t.below) return `${fmt(value, 1)} ms`;
  if (t.target.includes('first contact ≥')) return `${ratio(value)} the faster peer`;
  return ratio(value);
}

/** Markdown for an annotated run (or for the medians of several). */
function renderTable(annotatedRun) {
  const lines = [
    '| case | req/s | p50 ms | p99 ms | × bare Express | vs peers | server CPU µs/req | × bare Express by CPU | loop delay p99 ms | peak RSS MB |',
    '|---|--:|--:|--:|--:|---|--:|--:|--:|--:|',
  ];
  for (const r of annotatedRun.rows) {
    if (r.pending) {
      lines.push(`| ${r.name} | not measured: ${r.pending} | | | | | | | | |`);
      continue;
    }
    if (r.failed) {
      lines.push(`| ${r.name} | **failed**: ${r.failed} | | | | | | | | |`);
      continue;
    }
    if (r.flood) {
      const f = r.flood;
      lines.push(
        `| **${r.name}** | ${fmt(r.rps)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | | valid client ${ratio(f.ratio)} its quiet ${fmt(f.quietRps)} req/s, ${fmt(f.failureRate * 100, 2)} % failures; flood answered ${fmt(f.attackRps)} req/s | | | | |`,
      );
      continue;
    }
    const vs = Object.entries(r.vs ?? {})
      .map(([peer, x]) => `${ratio(x)} ${peer}`)
      .join(', ');
    const name = r.ours ? `**${r.name}**` : r.name;
    const base = BASELINE_SHORT[r.baseline ?? r.ceiling] ?? '';
    lines.push(
      `| ${name} | ${fmt(r.rps)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${ratio(r.xBare)} ${base} | ${vs} | ${fmt(r.cpuUsPerRequest)} | ${ratio(r.xBareCpu)} | ${fmt(r.eventLoopDelay?.p99, 1)} | ${fmt(r.peakRssMB)} |`,
    );
  }
  // Met only when every measure of it is: req/s alone can be moved either way by other processes.
  lines.push('', '| target | reached (req/s) | reached (CPU per response) | met |', '|---|--:|--:|:-:|');
  for (const t of annotatedRun.targets) {
    // NaN (a failed or unmeasured case) meets nothing: every comparison with it is false.
    const ok = (v) => (t.atMost ? v <= t.goal : t.below ? v < t.goal : v >= t.goal);
    const met = ok(t.value) && (!Number.isFinite(t.valueCpu) || ok(t.valueCpu));
    lines.push(`| ${t.target} | ${showTarget(t, t.value)} | ${showTarget(t, t.valueCpu)} | ${t.bound ? 'bound' : met ? 'yes' : '**no**'} |`);
  }
  return lines.join('\n');
}

module.exports = { annotate, renderTable, ceiling, ratio };
