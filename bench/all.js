// `npm run bench`: every benchmark of the issues in one go (the HTTP cases, the scale cases, the memory ceiling, the medians), then every target row they printed, each with whether it is met.
'use strict';
const { spawn } = require('node:child_process');
const { mkdirSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/** The steps, in order; each is its own process, so one that fails does not stop the others. */
const STEPS = [
  { name: 'HTTP cases (bench/run.js)', args: ['run.js'] },
  // Issue 16.3 again, paired: cases measured mid-run read a few µs above the bare GET measured at a
  // run's start and end (bench/README.md, fourth session), so the guard group is also measured in
  // alternating rounds, each against the bare GET of its own round.
  { name: 'the guard group in alternating rounds (bench/ab.js)', args: ['ab.js', '--rounds=9'] },
  // And as a service's routes: every case in one process, so the baseline is a plain route beside
  // the guarded ones (the library loaded for both) and only the route's middleware differs.
  {
    name: 'the guard group as routes of one process, in alternating rounds (bench/ab.js --together)',
    args: ['ab.js', '--together', '--rounds=9', '--cases=bare,bare-auth,bare-auth-read,ours-guard,ours-guard-after-token-router,ours-remote-guard'],
  },
  { name: 'scale: 100,000 clients and revoked tokens (bench/scale.js)', args: ['--expose-gc', 'scale.js'] },
  { name: 'memory: 1,000,000 distinct tokens (bench/memory.js)', args: ['--expose-gc', 'memory.js'] },
  { name: 'medians over the runs of this commit (bench/summarize.js)', args: ['summarize.js'] },
];

/** A line of a target table: its last cell says whether the target is met, or `bound` for the limit shown beside one. */
const TARGET_ROW = /^\|.*\|\s*(yes|no|\*\*no\*\*|NO|bound)\s*\|\s*$/;

function runStep(step) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, step.args.map((a) => (a.endsWith('.js') ? path.join(__dirname, a) : a)), {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: process.env,
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
    });
    child.on('close', (code, signal) => resolve({ code: code ?? 1, signal, out }));
  });
}

async function main() {
  const started = new Date();
  const report = [`# npm run bench, ${started.toISOString()}`, '', `load average at the start: ${os.loadavg()[0].toFixed(2)} on ${os.availableParallelism()} cores`, ''];
  let failures = 0;
  for (const step of STEPS) {
    console.log(`\n=== ${step.name}`);
    const { code, signal, out } = await runStep(step);
    if (code !== 0) failures++;
    // The run's own table comes before the medians; the medians' targets are the ones to quote.
    const rows = out.split('\n').filter((line) => TARGET_ROW.test(line.trim()) && !line.includes('---'));
    report.push(`## ${step.name}: ${code === 0 ? 'ran' : `FAILED (exit ${signal ?? code})`}`, '', ...rows, '');
  }
  report.push(`load average at the end: ${os.loadavg()[0].toFixed(2)}`);
  const text = report.join('\n');
  console.log(`\n${text}`);
  const dir = path.join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `targets-${started.toISOString().replace(/[:.]/g, '-')}.md`);
  writeFileSync(file, `${text}\n`);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
  if (failures > 0) {
    console.error(`${failures} step(s) failed`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
