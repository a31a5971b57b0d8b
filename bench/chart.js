// The comparison chart as a small hand-written SVG: one horizontal bar per case, throughput as a multiple of bare Express.
'use strict';
const { ratio } = require('./table');

const escape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Renders an annotated run (or medians). The bar length is `xBareCpu` (bare Express's server CPU per
 * response ÷ the case's, i.e. throughput on a core of its own; other processes on a shared machine
 * move it far less than req/s), or `xBare` for runs without it; linear, so a tiny bar means tiny
 * throughput.
 */
function renderChart(run, title = 'Throughput on one core relative to a bare Express route, from server CPU per response (higher is better)') {
  // Rows with no bare Express ratio (the bare signing rate, which has no HTTP) have no bar.
  const rows = run.rows
    .filter((r) => !r.pending && !r.failed && r.rps)
    .map((r) => ({ ...r, x: Number.isFinite(r.xBareCpu) ? r.xBareCpu : r.xBare }))
    .filter((r) => Number.isFinite(r.x));
  const label = 520;
  const barMax = 420;
  const rowH = 26;
  const top = 44;
  const width = label + barMax + 170;
  const height = top + rows.length * rowH + 30;
  const max = Math.max(1, ...rows.map((r) => r.x));
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="24" font-size="15" font-weight="bold">${escape(title)}</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const { x } = r;
    const w = Math.max(1, (x / max) * barMax);
    const fill = r.group === 'ceiling' ? '#555555' : r.ours ? '#1f77b4' : '#c7c7c7';
    out.push(
      `<text x="${label - 8}" y="${y + 17}" text-anchor="end"${r.ours ? ' font-weight="bold"' : ''}>${escape(r.name)}</text>`,
      `<rect x="${label}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${fill}"/>`,
      `<text x="${(label + w + 6).toFixed(1)}" y="${y + 17}">${escape(`${ratio(x)}  (${Math.round(r.rps).toLocaleString('en-US')} req/s measured)`)}</text>`,
    );
  });
  const oneX = label + barMax / max;
  out.push(
    `<line x1="${oneX.toFixed(1)}" y1="${top}" x2="${oneX.toFixed(1)}" y2="${top + rows.length * rowH}" stroke="#555555" stroke-dasharray="3,3"/>`,
    `<text x="10" y="${height - 10}" fill="#555555">Blue: express-client-credentials. Grey: peers. Dashed: bare Express = 1× (GET for guards, POST with the same form body for token endpoints). ${escape(run.note ?? 'One run; see bench/README.md.')}</text>`,
    '</svg>',
  );
  return `${out.join('\n')}\n`;
}

module.exports = { renderChart };
