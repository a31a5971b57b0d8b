// The concurrency gate for bcrypt work (lib/core/client-auth/work-gate.ts): bounded in flight, bounded queue, priority lane.
import { GateFullError, WorkGate } from '../../../lib/core/client-auth/work-gate';

/** A task that runs until its release() is called, recording start order. */
function controlled(log: string[], name: string): { task: () => Promise<string>; release: () => void } {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return {
    task: async () => {
      log.push(name);
      await done;
      return name;
    },
    release: () => release(),
  };
}

describe('work gate', () => {
  it('runs at most maxInFlight tasks, queues up to maxQueued and refuses the rest at once', async () => {
    const gate = new WorkGate(2, 1);
    const log: string[] = [];
    const tasks = ['a', 'b', 'c'].map((n) => controlled(log, n));
    const running = tasks.map((t) => gate.run(t.task));
    await Promise.resolve();
    expect(gate.running).toBe(2);
    expect(gate.waiting).toBe(1);
    await expect(gate.run(async () => 'd')).rejects.toBeInstanceOf(GateFullError);
    expect(log).toEqual(['a', 'b']);
    tasks[0]?.release();
    await running[0];
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['a', 'b', 'c']);
    tasks[1]?.release();
    tasks[2]?.release();
    await expect(Promise.all(running)).resolves.toEqual(['a', 'b', 'c']);
    expect(gate.running).toBe(0);
  });

  it('serves priority tasks first, in a lane ordinary refusals never fill', async () => {
    const gate = new WorkGate(1, 1);
    const log: string[] = [];
    const first = controlled(log, 'first');
    const running = [gate.run(first.task)];
    running.push(gate.run(async () => (log.push('normal'), 'normal')));
    await expect(gate.run(async () => 'refused')).rejects.toBeInstanceOf(GateFullError);
    running.push(gate.run(async () => (log.push('priority'), 'priority'), true));
    first.release();
    await Promise.all(running);
    expect(log).toEqual(['first', 'priority', 'normal']);
  });

  it('frees the slot when a task rejects', async () => {
    const gate = new WorkGate(1, 0);
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.run(async () => 'ok')).resolves.toBe('ok');
  });
});

describe('work gate, fair lane (issue 19.1)', () => {
  it('serves a newcomer address before the rest of a flood from other addresses', async () => {
    const gate = new WorkGate(1, 10);
    const log: string[] = [];
    const first = controlled(log, 'first');
    const running = [gate.run(first.task, false, { address: 'a', clientId: 'x' })];
    for (let i = 0; i < 4; i++) running.push(gate.run(async () => (log.push(`a${i}`), 'a'), false, { address: 'a', clientId: `x${i}` }));
    running.push(gate.run(async () => (log.push('new'), 'new'), false, { address: 'b', clientId: 'valid' }));
    first.release();
    await Promise.all(running);
    expect(log).toEqual(['first', 'a0', 'new', 'a1', 'a2', 'a3']);
  });

  it('when full, refuses the newest waiting task of the heaviest address, not the newcomer', async () => {
    const gate = new WorkGate(1, 2);
    const log: string[] = [];
    const first = controlled(log, 'first');
    const running = gate.run(first.task, false, { address: 'flood', clientId: 'x' });
    const waiting = [1, 2].map((i) => gate.run(async () => (log.push(`flood${i}`), i), false, { address: 'flood', clientId: 'x' }));
    const newcomer = gate.run(async () => (log.push('new'), 'new'), false, { address: 'new', clientId: 'y' });
    await expect(waiting[1]).rejects.toBeInstanceOf(GateFullError);
    first.release();
    await expect(newcomer).resolves.toBe('new');
    await expect(waiting[0]).resolves.toBe(1);
    await running;
    expect(log).toEqual(['first', 'flood1', 'new']);
    expect(gate.running).toBe(0);
  });
});
