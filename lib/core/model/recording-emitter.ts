// The typed event bus behind the audit events and the token client's events: emit by name and on one catch-all name, with type and time added; a throwing listener never breaks the caller.
import { EventEmitter } from 'node:events';

/**
 * An EventEmitter whose `record(name, payload)` is typed by an event map. Every event is emitted
 * under its name and under `allName` with `type` (its name) and `time` (epoch ms) added.
 */
export class RecordingEmitter<Events extends { [K in keyof Events]: object }> extends EventEmitter {
  constructor(
    /** The catch-all event name, e.g. `'audit'`. */
    private readonly allName: string,
    private readonly now: () => number,
    private readonly onListenerError: (err: unknown) => void = () => undefined,
  ) {
    super();
  }

  /**
   * Calls the listeners of `name`, then those of the catch-all, with the payload plus `type` and
   * `time`. Each listener is called on its own, so one that throws neither breaks the caller nor
   * keeps the event from the others (an audit log must not lose an event to a faulty metrics listener).
   */
  record<K extends keyof Events & string>(name: K, payload: Events[K]): void {
    const event = { ...payload, type: name, time: this.now() };
    for (const channel of [name, this.allName]) {
      // rawListeners: a once() wrapper removes itself when called, as with emit().
      for (const listener of this.rawListeners(channel)) {
        try {
          (listener as (event: unknown) => void).call(this, event);
        } catch (err) {
          this.onListenerError(err);
        }
      }
    }
  }
}
