// The bench's child processes: pinned to a CPU with taskset when there is one, and their IPC messages awaited by type.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');

/** Whether servers and load generators can be pinned (taskset, and at least two cores). */
const HAS_TASKSET = spawnSync('taskset', ['-c', '0', 'true']).status === 0 && os.availableParallelism() >= 2;

/** Runs bench/`script` (pinned to `cpu` when possible) with an IPC channel. */
function child(script, cpu, env, nodeArgs = []) {
  const args = [...nodeArgs, path.join(__dirname, script)];
  const [cmd, argv] = HAS_TASKSET ? ['taskset', ['-c', String(cpu), process.execPath, ...args]] : [process.execPath, args];
  return spawn(cmd, argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...env } });
}

/** The next message of `type` from `proc`; rejects on an `error` message or when it exits first. */
function nextMessage(proc, type) {
  return new Promise((resolve, reject) => {
    const onMessage = (msg) => {
      if (msg.type === type) done(null, msg);
      else if (msg.type === 'error') done(new Error(msg.message));
    };
    const onExit = (code) => done(new Error(`${path.basename(proc.spawnargs.at(-1))} exited with ${code}`));
    const done = (err, msg) => {
      proc.off('message', onMessage);
      proc.off('exit', onExit);
      if (err) reject(err);
      else resolve(msg);
    };
    proc.on('message', onMessage);
    proc.on('exit', onExit);
  });
}

module.exports = { HAS_TASKSET, child, nextMessage };
