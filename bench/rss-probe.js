// Preloaded into a measured child process (node -r ./bench/rss-probe.js ...): samples its RSS every 10 ms and writes the peak to stderr at exit.
'use strict';
const { writeSync } = require('node:fs');

let peak = process.memoryUsage.rss();
const timer = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage.rss());
}, 10);
timer.unref();
process.on('exit', () => {
  peak = Math.max(peak, process.memoryUsage.rss());
  writeSync(2, `\nRSS_PEAK_BYTES=${peak}\n`);
});
