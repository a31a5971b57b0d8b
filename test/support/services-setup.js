// Jest global setup: checks once whether PostgreSQL and Redis answer, and says in one line which suites skip when they don't (CI requires both).
'use strict';
const net = require('node:net');

/** Whether something accepts TCP connections at the URL's host and port within two seconds. */
function reachable(url) {
  return new Promise((resolve) => {
    let target;
    try {
      target = new URL(url);
    } catch {
      resolve(false);
      return;
    }
    const socket = net.connect(Number(target.port) || (target.protocol.startsWith('redis') ? 6379 : 5432), target.hostname || '127.0.0.1');
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const SERVICES = [
  { name: 'PostgreSQL', variable: 'OAUTH_TEST_PG_URL', example: 'postgres://postgres@127.0.0.1:5432/test' },
  { name: 'Redis', variable: 'OAUTH_TEST_REDIS_URL', example: 'redis://127.0.0.1:6379' },
];

module.exports = async function servicesSetup() {
  const skipped = [];
  for (const service of SERVICES) {
    const url = process.env[service.variable];
    const why = !url ? `${service.variable} is not set` : !(await reachable(url)) ? `nothing answers at ${new URL(url).host}` : undefined;
    if (why === undefined) continue;
    if (process.env.CI) throw new Error(`the ${service.name} suites are required in CI, but ${why} (.ci/run starts ${service.name} and exports ${service.variable})`);
    // Test files read this instead of probing again, so the run says it once.
    process.env[`${service.variable}_SKIP`] = why;
    skipped.push(`${service.name} (${why}; e.g. ${service.variable}=${service.example})`);
  }
  if (skipped.length > 0) process.stdout.write(`\nSkipping the suites that need ${skipped.join(' and ')}.\n`);
};
