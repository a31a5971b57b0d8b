// `npm run bench:summary`: medians over the full runs in bench/results/ (ratios taken within each run first), as median.{json,md} and chart.svg.
'use strict';
const { readdirSync, readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { renderChart } = require('./chart');
const { renderTable } = require('./table');

const RESULTS = path.join(__dirname, 'results');

function median(values) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** `--all`: every full run in bench/results/; by default only the runs of the newest run's commit (older code is not this code). */
const ALL = process.argv.includes('--all');
const found = readdirSync(RESULTS)
  .filter((f) => /^run-.*\.json$/.test(f))
  .sort()
  .map((f) => ({ file: f, run: JSON.parse(readFileSync(path.join(RESULTS, f), 'utf8')) }))
  .filter(({ run }) => !run.smoke);
if (found.length === 0) throw new Error('no full runs in bench/results/: run `npm run bench` first');
const newest = found[found.length - 1].run.commit;
const alone = newest === undefined || newest === 'unknown' || newest.endsWith('+dirty');
const chosen = ALL ? found : alone ? found.slice(-1) : found.filter(({ run }) => run.commit === newest);
if (!ALL && alone) {
  console.log(`the newest run measured ${newest ?? 'an unrecorded commit'}: summarizing it alone (commit first to take medians over runs of one commit, or pass --all)`);
}
const files = chosen.map(({ file }) => file);
const runs = chosen.map(({ run }) => run);

const names = runs[0].rows.map((r) => r.name);
const rows = names.map((name) => {
  const all = runs.map((run) => run.rows.find((r) => r.name === name)).filter(Boolean);
  const first = all[0];
  if (first.pending) return first;
  const measured = all.filter((r) => !r.failed);
  if (measured.length === 0) return { ...first, failed: `failed in all ${all.length} runs` };
  const m = (pick) => median(measured.map(pick));
  const peers = Object.keys(measured[0].vs ?? {});
  return {
    name,
    group: first.group,
    ours: first.ours,
    peer: first.peer,
    ceiling: first.ceiling,
    baseline: first.baseline,
    peers: first.peers,
    runs: measured.length,
    rps: m((r) => r.rps),
    p50: m((r) => r.p50),
    p99: m((r) => r.p99),
    xBare: m((r) => r.xBare),
    cpuUsPerRequest: m((r) => r.cpuUsPerRequest),
    xBareCpu: m((r) => r.xBareCpu),
    vs: Object.fromEntries(peers.map((p) => [p, m((r) => r.vs?.[p])])),
    eventLoopDelay: { p99: m((r) => r.eventLoopDelay?.p99) },
    peakRssMB: m((r) => r.peakRssMB),
    ...(first.flood
      ? { flood: { quietRps: m((r) => r.flood?.quietRps), ratio: m((r) => r.flood?.ratio), failureRate: m((r) => r.flood?.failureRate), attackRps: m((r) => r.flood?.attackRps) } }
      : {}),
  };
});
// Matched by name, not position: the list of targets changes between issues (runs before it lack the new ones).
const latestTargets = runs[runs.length - 1].targets;
const targets = latestTargets.map((t) => {
  const same = (run) => run.targets.find((u) => u.target === t.target);
  return { ...t, value: median(runs.map((run) => same(run)?.value)), valueCpu: median(runs.map((run) => same(run)?.valueCpu)) };
});
const summary = {
  runs: files.length,
  from: files,
  machine: runs[0].machine,
  timing: runs[0].timing,
  pinned: runs[0].pinned,
  commit: ALL ? 'all' : newest,
  loadAverage: runs.map((r) => r.loadAverage),
  note: `Medians of ${runs.length} runs; each ratio is taken within its run.`,
  rows,
  targets,
};
const table = renderTable(summary);
writeFileSync(path.join(RESULTS, 'median.json'), `${JSON.stringify(summary, null, 2)}\n`);
writeFileSync(path.join(RESULTS, 'median.md'), `Medians of ${runs.length} runs (${files.join(', ')}); ratios are taken within each run, then the median of those.\n\n${table}\n`);
writeFileSync(path.join(RESULTS, 'chart.svg'), renderChart(summary));
console.log(table);
