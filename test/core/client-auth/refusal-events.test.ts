// RefusalEvents: rate_limit.hit recorded at most once a second per limit and key, the next event carrying the count left out.
import { AuditEmitter, type AuditEvent } from '../../../lib/core/model/events';
import { RefusalEvents } from '../../../lib/core/client-auth/refusal-events';
import { FailureLimiter } from '../../../lib/core/client-auth/failure-limits';
import { fakeClock } from '../../helpers';

function setup() {
  const clock = fakeClock();
  const emitter = new AuditEmitter(clock.now);
  const events: AuditEvent[] = [];
  emitter.on('audit', (e: AuditEvent) => events.push(e));
  return { clock, events, refusals: new RefusalEvents(emitter, clock.now) };
}

const hit = (limit: 'address' | 'client', address: string, clientId?: string) => ({ limit, address, clientId, retryAfter: 10 });

describe('RefusalEvents', () => {
  it('keeps one event per second for each limit and key, and counts the rest into the next one', () => {
    const { clock, events, refusals } = setup();
    for (let i = 0; i < 3; i++) refusals.record('10.0.0.1', hit('address', '10.0.0.1'));
    refusals.record('10.0.0.2', hit('address', '10.0.0.2'));
    refusals.record('some-id', hit('client', '10.0.0.1', 'some-id'));
    clock.advance(999);
    refusals.record('10.0.0.1', hit('address', '10.0.0.1'));
    clock.advance(1);
    refusals.record('10.0.0.1', hit('address', '10.0.0.1'));
    refusals.record('10.0.0.1', hit('address', '10.0.0.1'));
    expect(events.map((e) => [e.type, (e as AuditEvent<'rate_limit.hit'>).limit, (e as AuditEvent<'rate_limit.hit'>).address, (e as AuditEvent<'rate_limit.hit'>).suppressed])).toEqual([
      ['rate_limit.hit', 'address', '10.0.0.1', undefined],
      ['rate_limit.hit', 'address', '10.0.0.2', undefined],
      ['rate_limit.hit', 'client', '10.0.0.1', undefined],
      ['rate_limit.hit', 'address', '10.0.0.1', 3],
    ]);
  });
});

describe('FailureLimiter.refusesAddress', () => {
  const limits = { addressFailureLimit: 2, addressFailureWindow: 60, clientFailureLimit: 0, clientFailureWindow: 60, clientMaxBackoff: 60 };

  it('refuses an address whose failures reached the limit, charging nothing', () => {
    const clock = fakeClock();
    const limiter = new FailureLimiter(limits, clock.now);
    limiter.failure({ clientId: 'a', address: '10.0.0.1' });
    expect(limiter.refusesAddress('10.0.0.1')).toBeUndefined();
    limiter.failure({ clientId: 'a', address: '10.0.0.1' });
    expect(limiter.refusesAddress('10.0.0.1')).toEqual({ limit: 'address', retryAfterSeconds: 60 });
    expect(limiter.refusesAddress('10.0.0.1')).toEqual({ limit: 'address', retryAfterSeconds: 60 });
    clock.advance(60_000);
    expect(limiter.refusesAddress('10.0.0.1')).toBeUndefined();
  });

  it('mirrors a refusal of the shared limits for its Retry-After, and only per-address ones', () => {
    const clock = fakeClock();
    const limiter = new FailureLimiter(limits, clock.now);
    limiter.mirrorRefusal('10.0.0.1', { limit: 'address', retryAfterSeconds: 5 });
    limiter.mirrorRefusal('10.0.0.2', { limit: 'client', retryAfterSeconds: 5 });
    expect(limiter.refusesAddress('10.0.0.1')).toEqual({ limit: 'address', retryAfterSeconds: 5 });
    expect(limiter.refusesAddress('10.0.0.2')).toBeUndefined();
    clock.advance(4001);
    expect(limiter.refusesAddress('10.0.0.1')).toEqual({ limit: 'address', retryAfterSeconds: 1 });
    clock.advance(999);
    expect(limiter.refusesAddress('10.0.0.1')).toBeUndefined();
  });
});
