// `npm start`: starts every example service, each on its own port, and stops them all on Ctrl-C.
'use strict';

/**
 * The services `npm start` runs, in order. Each module exports
 * `start({ env, print, running }) => Promise<{ name, url, close() }>` (`running`: the services started
 * before it); adding a service is one line here.
 */
// Metrics first: the services take their meters from the global provider it registers.
const SERVICES = [require('./metrics'), require('./app'), require('./orders')];

/** Starts `services` in order; on a failure, stops the ones already running and exits with 1. */
async function run(services) {
  const running = [];
  const stopAll = () => Promise.allSettled(running.map((service) => service.close()));
  try {
    for (const service of services) running.push(await service.start({ env: process.env, running: [...running] }));
  } catch (err) {
    console.error(`could not start: ${err instanceof Error ? err.message : String(err)}`);
    await stopAll();
    process.exit(1);
  }
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      console.log(`stopping ${running.map((service) => service.name).join(', ')}`);
      void stopAll().then(() => process.exit(0));
    });
  }
}

module.exports = { run, SERVICES };

if (require.main === module) void run(SERVICES);
