// Failed-authentication limits (lib/core/client-auth/auth-limiter.ts): per address, per client id with back-off, trusted pairs.
import { AuthLimiter, type AuthLimits } from '../../../lib/core/client-auth/auth-limiter';

const LIMITS: AuthLimits = {
  addressFailureLimit: 5,
  addressFailureWindow: 60,
  clientFailureLimit: 3,
  clientFailureWindow: 60,
  clientMaxBackoff: 4,
};

beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2026, 0, 1) }));
afterEach(() => jest.useRealTimers());

async function fail(limiter: AuthLimiter, times: number, clientId: string | undefined, address: string): Promise<void> {
  for (let i = 0; i < times; i++) await limiter.failure({ clientId, address });
}

describe('auth limiter', () => {
  it('refuses an address after addressFailureLimit failures until the window passes', async () => {
    const limiter = new AuthLimiter(LIMITS);
    await fail(limiter, 4, undefined, '10.0.0.1');
    expect(await limiter.check({ clientId: undefined, address: '10.0.0.1' })).toBeUndefined();
    await fail(limiter, 1, undefined, '10.0.0.1');
    expect(await limiter.check({ clientId: 'any', address: '10.0.0.1' })).toEqual({ limit: 'address', retryAfterSeconds: 60 });
    expect(await limiter.check({ clientId: 'any', address: '10.0.0.2' })).toBeUndefined();
    jest.advanceTimersByTime(30_000);
    expect(await limiter.check({ clientId: undefined, address: '10.0.0.1' })).toEqual({ limit: 'address', retryAfterSeconds: 30 });
    jest.advanceTimersByTime(30_001);
    expect(await limiter.check({ clientId: undefined, address: '10.0.0.1' })).toBeUndefined();
  });

  it('backs a client id off for 1 s, then 2 s, then 4 s (capped by clientMaxBackoff), never locking it for the window', async () => {
    const limiter = new AuthLimiter(LIMITS);
    const from = (n: number) => `10.1.0.${n}`;
    const seen: number[] = [];
    for (let round = 0; round < 4; round++) {
      await fail(limiter, 3, 'victim', from(round));
      const refusal = await limiter.check({ clientId: 'victim', address: '10.9.9.9' });
      expect(refusal?.limit).toBe('client');
      seen.push(refusal?.retryAfterSeconds ?? 0);
      jest.advanceTimersByTime((refusal?.retryAfterSeconds ?? 0) * 1000 + 1);
      expect(await limiter.check({ clientId: 'victim', address: '10.9.9.9' })).toBeUndefined();
    }
    expect(seen).toEqual([1, 2, 4, 4]);
  });

  it('exempts an address that authenticated as the client from that client id back-off, but not from its address limit', async () => {
    const limiter = new AuthLimiter(LIMITS);
    limiter.success({ clientId: 'real', address: '10.2.0.1' });
    await fail(limiter, 3, 'real', '10.66.0.1');
    expect((await limiter.check({ clientId: 'real', address: '10.2.0.2' }))?.limit).toBe('client');
    expect(await limiter.check({ clientId: 'real', address: '10.2.0.1' })).toBeUndefined();
    expect(limiter.isTrusted({ clientId: 'real', address: '10.2.0.1' })).toBe(true);
    expect(limiter.isTrusted({ clientId: 'other', address: '10.2.0.1' })).toBe(false);
    await fail(limiter, 5, 'real', '10.2.0.1');
    expect((await limiter.check({ clientId: 'real', address: '10.2.0.1' }))?.limit).toBe('address');
  });

  it('forgets a trusted pair after a day', async () => {
    const limiter = new AuthLimiter(LIMITS);
    limiter.success({ clientId: 'real', address: '10.2.0.1' });
    jest.advanceTimersByTime(24 * 3600 * 1000 + 1);
    expect(limiter.isTrusted({ clientId: 'real', address: '10.2.0.1' })).toBe(false);
  });

  it('remembers at most 10,000 trusted pairs, forgetting the least recently confirmed first (README: memory stays bounded)', () => {
    const limiter = new AuthLimiter(LIMITS);
    const pair = (n: number) => ({ clientId: `client${n}`, address: '10.3.0.1' });
    for (let n = 0; n < 10_000; n++) limiter.success(pair(n));
    // A new success moves a pair to the back of the queue.
    limiter.success(pair(0));
    limiter.success(pair(10_000));
    expect(limiter.isTrusted(pair(1))).toBe(false);
    expect(limiter.isTrusted(pair(0))).toBe(true);
    expect(limiter.isTrusted(pair(2))).toBe(true);
    expect(limiter.isTrusted(pair(10_000))).toBe(true);
    limiter.success(pair(10_001));
    expect(limiter.isTrusted(pair(2))).toBe(false);
    expect(limiter.isTrusted(pair(3))).toBe(true);
  });

  it('turns a counter off with a limit of 0', async () => {
    const limiter = new AuthLimiter({ ...LIMITS, addressFailureLimit: 0, clientFailureLimit: 0 });
    await fail(limiter, 50, 'x', '10.0.0.1');
    expect(await limiter.check({ clientId: 'x', address: '10.0.0.1' })).toBeUndefined();
  });
});
