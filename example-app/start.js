// `npm start`: starts every example service, each on its own port, and stops them all on Ctrl-C.
'use strict';

/**
 * The services `npm start` runs, in order. Each module exports
 * `start({ env, print, running }) => Promise<{ name, url, close() }>` (`running`: the services started
 * before it); adding a service is one line here.
 */
// Metrics first: the services take their meters from the global provider it registers.
const SERVICES = [require('./metrics'), require('./app'), require('./orders')];
// The environment is read through the library's one env module, as the default instance and the CLI read it.
const { processEnvironment } = require('express-client-credentials/env');

/**
 * Starts `services` in order. A service that cannot start (its port is taken, ...) is reported and
 * skipped, and the others keep running: the orders demo must not take the items service down. Exits
 * with 1 only when none started. Returns the running services and a `stop()` that closes them.
 *
 * @param {{ start: Function, name?: string }[]} services
 * @param {{ env?: Record<string, string | undefined>, print?: (line: string) => void, printError?: (line: string) => void, exit?: (code: number) => void }} [context]
 */
async function run(services, { env = processEnvironment(), print = console.log, printError = console.error, exit = process.exit } = {}) {
  const running = [];
  for (const service of services) {
    try {
      running.push(await service.start({ env, print, running: [...running] }));
    } catch (err) {
      const others = running.length > 0 ? `; still running: ${running.map((s) => s.name).join(', ')}` : '';
      printError(`${service.name || 'a service'} could not start: ${err instanceof Error ? err.message : String(err)}${others}`);
    }
  }
  const onSignal = () => {
    print(`stopping ${running.map((service) => service.name).join(', ')}`);
    void stop().then(() => exit(0));
  };
  const signals = ['SIGINT', 'SIGTERM'];
  async function stop() {
    for (const signal of signals) process.off(signal, onSignal);
    await Promise.allSettled(running.map((service) => service.close()));
  }
  if (running.length === 0) {
    exit(1);
    return { running, stop };
  }
  for (const signal of signals) process.once(signal, onSignal);
  return { running, stop };
}

module.exports = { run, SERVICES };

if (require.main === module) void run(SERVICES);
