// The fair wait queue of the bcrypt gate (lib/core/client-auth/fair-queue.ts): round robin over addresses and client ids, bounded, shedding the heaviest address.
import { FairQueue } from '../../../lib/core/client-auth/fair-queue';

function drain<T>(queue: FairQueue<T>): T[] {
  const out: T[] = [];
  for (let item = queue.next(); item !== undefined; item = queue.next()) out.push(item);
  return out;
}

describe('fair queue', () => {
  it('serves a newcomer address after at most one item of each other waiting address, not after a whole flood (issue 19.1)', () => {
    const queue = new FairQueue<string>(100);
    for (let i = 0; i < 20; i++) queue.offer({ address: 'flood', clientId: `id-${i}` }, `flood-${i}`);
    queue.offer({ address: '127.30.0.2', clientId: 'x' }, 'other');
    queue.offer({ address: '127.30.0.9', clientId: 'valid' }, 'valid');
    const order = drain(queue);
    expect(order.slice(0, 3)).toEqual(['flood-0', 'other', 'valid']);
    expect(order).toHaveLength(22);
  });

  it('takes client ids of one address in turn (clients behind one NAT)', () => {
    const queue = new FairQueue<string>(100);
    for (let i = 0; i < 5; i++) queue.offer({ address: 'nat', clientId: 'guessed' }, `g${i}`);
    queue.offer({ address: 'nat', clientId: 'valid' }, 'valid');
    expect(drain(queue).slice(0, 2)).toEqual(['g0', 'valid']);
  });

  it('keeps first-come order within one address and client id', () => {
    const queue = new FairQueue<number>(10);
    for (let i = 0; i < 5; i++) queue.offer({ address: 'a', clientId: 'c' }, i);
    expect(drain(queue)).toEqual([0, 1, 2, 3, 4]);
    expect(queue.size).toBe(0);
  });

  it('when full, sheds the newest item of the address with the most in flight to make room for a newcomer', () => {
    const queue = new FairQueue<string>(4);
    queue.offer({ address: 'light', clientId: 'x' }, 'light');
    for (let i = 0; i < 3; i++) queue.offer({ address: 'heavy', clientId: 'x' }, `heavy-${i}`);
    expect(queue.offer({ address: 'new', clientId: 'valid' }, 'valid')).toEqual({ queued: true, shed: 'heavy-2' });
    expect(queue.size).toBe(4);
    expect(drain(queue).sort()).toEqual(['heavy-0', 'heavy-1', 'light', 'valid']);
  });

  it('counts running items: an address whose work is running is shed before one with a single waiting item', () => {
    const queue = new FairQueue<string>(2);
    queue.began('busy');
    queue.began('busy');
    queue.offer({ address: 'busy', clientId: 'x' }, 'busy-waiting');
    queue.offer({ address: 'calm', clientId: 'x' }, 'calm');
    expect(queue.inFlight('busy')).toBe(3);
    expect(queue.offer({ address: 'new', clientId: 'x' }, 'new')).toEqual({ queued: true, shed: 'busy-waiting' });
    queue.ended('busy');
    queue.ended('busy');
    expect(queue.inFlight('busy')).toBe(0);
  });

  it('refuses the newcomer when no address holds two more than it would (every address one item)', () => {
    const queue = new FairQueue<string>(3);
    for (const a of ['a', 'b', 'c']) queue.offer({ address: a, clientId: 'x' }, a);
    expect(queue.offer({ address: 'd', clientId: 'x' }, 'd')).toEqual({ queued: false });
    expect(queue.offer({ address: 'a', clientId: 'y' }, 'a2')).toEqual({ queued: false });
    expect(queue.size).toBe(3);
  });

  it('with capacity 0 refuses everything', () => {
    expect(new FairQueue<string>(0).offer({ address: 'a', clientId: 'x' }, 'a')).toEqual({ queued: false });
    expect(() => new FairQueue<string>(-1)).toThrow(TypeError);
  });

  it('next() counts the served item as running until ended()', () => {
    const queue = new FairQueue<string>(2);
    queue.offer({ address: 'a', clientId: 'x' }, 'a');
    expect(queue.inFlight('a')).toBe(1);
    expect(queue.next()).toBe('a');
    expect(queue.inFlight('a')).toBe(1);
    queue.ended('a');
    expect(queue.inFlight('a')).toBe(0);
    expect(queue.next()).toBeUndefined();
  });

  it('never holds more than its capacity, and every item offered comes out once: queued, shed or refused', () => {
    // A deterministic pseudo-random mix of offers and services.
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const queue = new FairQueue<number>(8);
    const seen = new Set<number>();
    let waiting = 0;
    for (let i = 0; i < 2000; i++) {
      if (rand(3) === 0) {
        const item = queue.next();
        if (item !== undefined) {
          expect(seen.has(item)).toBe(false);
          seen.add(item);
          waiting--;
          if (rand(2) === 0) queue.ended(`a${item % 5}`);
        }
      } else {
        const offer = queue.offer({ address: `a${rand(5)}`, clientId: `c${rand(3)}` }, i);
        if (!offer.queued) seen.add(i);
        else {
          waiting++;
          if (offer.shed !== undefined) {
            seen.add(offer.shed);
            waiting--;
          }
        }
      }
      expect(queue.size).toBe(waiting);
      expect(queue.size).toBeLessThanOrEqual(8);
    }
  });
});
