// The side-by-side Markdown table of one run (or of the medians of several): req/s, latency, ratios to bare Express and to each peer, targets.
'use strict';

const TOKEN_PEERS = ['oauth2orize + passport-http (bcrypt each request)', '@node-oauth/oauth2-server (bcrypt each request)'];
const GUARD_PEERS = ['express-oauth2-jwt-bearer', 'express-jwt + express-jwt-authz'];
const SHORT = {
  [TOKEN_PEERS[0]]: 'oauth2orize',
  [TOKEN_PEERS[1]]: 'node-oauth',
  [GUARD_PEERS[0]]: 'jwt-bearer',
  [GUARD_PEERS[1]]: 'express-jwt',
};

/** Requests per second of bare Express: the mean of the runs at the start and at the end. */
function ceiling(rows) {
  const bare = rows.filter((r) => r.group === 'ceiling' && !r.failed && r.rps);
  return bare.length ? bare.reduce((s, r) => s + r.rps, 0) / bare.length : NaN;
}

const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–');
const ratio = (n) => (!Number.isFinite(n) ? '–' : n >= 10 ? `${fmt(n)}×` : n >= 0.1 ? `${fmt(n, 2)}×` : `${fmt(n, 3)}×`);

function peersOf(row) {
  if (!row.ours) return [];
  return row.group === 'guard' ? GUARD_PEERS : TOKEN_PEERS;
}

/** Each target of the issue with the value this run reached. */
function targets(rows) {
  const bare = ceiling(rows);
  const by = (name) => rows.find((r) => r.name === name);
  const x = (name) => (by(name)?.rps ?? NaN) / bare;
  const min = (...names) => Math.min(...names.map(x));
  const peerBcrypt = Math.max(...TOKEN_PEERS.map((n) => by(n)?.rps ?? NaN));
  const first = by('ours: token, first-contact clients (bcrypt), RS256');
  return [
    { target: 'token, returning client, RS256 ≥ 0.25× bare Express', value: min('ours: token, returning client, Basic, RS256', 'ours: token, returning client, body, RS256'), goal: 0.25 },
    { target: 'token, returning client, ES256 ≥ 0.5× bare Express', value: min('ours: token, returning client, Basic, ES256', 'ours: token, returning client, body, ES256'), goal: 0.5 },
    { target: 'token, first contact ≥ the peers’ bcrypt path (req/s)', value: (first?.rps ?? NaN) / peerBcrypt, goal: 1 },
    { target: 'token, first contact: event-loop delay p99 < 10 ms', value: first?.eventLoopDelay?.p99 ?? NaN, goal: 10, below: true },
    { target: 'guarded route, in-process guard ≥ 0.9× bare Express', value: x('ours: guarded route, in-process guard'), goal: 0.9 },
  ];
}

/**
 * Adds each row's ratios, computed within the run: `xBare` (req/s ÷ bare Express) and `vs` (req/s ÷
 * each peer's, for our rows), and the run's target values. Medians over runs are taken of these.
 */
function annotate(run) {
  const { rows } = run;
  const bare = ceiling(rows);
  const annotated = rows.map((r) => {
    if (r.pending || r.failed) return r;
    const vs = {};
    for (const p of peersOf(r)) {
      const peer = rows.find((x) => x.name === p);
      if (peer?.rps && !peer.failed) vs[SHORT[p]] = r.rps / peer.rps;
    }
    return { ...r, xBare: r.rps / bare, vs };
  });
  return { ...run, rows: annotated, targets: targets(rows).map(({ target, value, goal, below }) => ({ target, value, goal, below })) };
}

function showTarget(t) {
  if (t.below) return `${fmt(t.value, 1)} ms`;
  if (t.target.includes('first contact ≥')) return `${ratio(t.value)} of the faster peer`;
  return ratio(t.value);
}

/** Markdown for an annotated run (or for the medians of several). */
function renderTable(annotatedRun) {
  const lines = [
    '| case | req/s | p50 ms | p99 ms | × bare Express | vs peers | loop delay p99 ms | peak RSS MB |',
    '|---|--:|--:|--:|--:|---|--:|--:|',
  ];
  for (const r of annotatedRun.rows) {
    if (r.pending) {
      lines.push(`| ${r.name} | not measured: ${r.pending} | | | | | | |`);
      continue;
    }
    if (r.failed) {
      lines.push(`| ${r.name} | **failed**: ${r.failed} | | | | | | |`);
      continue;
    }
    const vs = Object.entries(r.vs ?? {})
      .map(([peer, x]) => `${ratio(x)} ${peer}`)
      .join(', ');
    const name = r.ours ? `**${r.name}**` : r.name;
    lines.push(
      `| ${name} | ${fmt(r.rps)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${ratio(r.xBare)} | ${vs} | ${fmt(r.eventLoopDelay?.p99, 1)} | ${fmt(r.peakRssMB)} |`,
    );
  }
  lines.push('', '| target | reached | met |', '|---|--:|:-:|');
  for (const t of annotatedRun.targets) {
    const met = t.below ? t.value < t.goal : t.value >= t.goal;
    lines.push(`| ${t.target} | ${showTarget(t)} | ${met ? 'yes' : '**no**'} |`);
  }
  return lines.join('\n');
}

module.exports = { annotate, renderTable, ceiling, ratio };
