// rate_limit.hit audit events, at most one per second for each limit and key, each carrying the count of the refusals it stands in for.
import { boundedLru } from '../model/bounded-lru';
import type { AuditEvents, AuditRecorder } from '../model/events';
import { MAX_COUNTED_KEYS } from './failure-limits';

/** Shortest time between two recorded `rate_limit.hit` events of one limit and key. */
export const REFUSAL_EVENT_INTERVAL_MS = 1000;

interface Last {
  /** When the key's last event was recorded (epoch ms, on the instance clock). */
  at: number;
  /** Refusals of the key since then that recorded nothing. */
  suppressed: number;
}

/**
 * Records `rate_limit.hit` so that a flood costs the audit log (and its listeners) at most one event
 * per second per key, not one per refused request: the first refusal of a key is recorded at once;
 * further ones within the second only add to a count, which the key's next recorded event carries as
 * `suppressed`. A count still pending when the flood stops is reported with that key's next refusal
 * (or never, if the key is not refused again before it is forgotten). The key is the address for
 * `address` and `concurrency` refusals and the claimed client id for `client` ones; at most
 * {@link MAX_COUNTED_KEYS} keys are remembered (least recently refused forgotten first).
 */
export class RefusalEvents {
  private readonly last = boundedLru<string, Last>(MAX_COUNTED_KEYS);

  constructor(
    private readonly events: AuditRecorder,
    private readonly now: () => number,
  ) {}

  /** Records the refusal, or counts it when its key already had an event within the last second. */
  record(key: string | undefined, event: AuditEvents['rate_limit.hit']): void {
    const id = `${event.limit}\n${key ?? ''}`;
    const now = this.now();
    const last = this.last.get(id);
    if (last && now - last.at < REFUSAL_EVENT_INTERVAL_MS && now >= last.at) {
      last.suppressed++;
      return;
    }
    const suppressed = last?.suppressed ?? 0;
    this.last.set(id, { at: now, suppressed: 0 });
    this.events.record('rate_limit.hit', suppressed > 0 ? { ...event, suppressed } : event);
  }
}
