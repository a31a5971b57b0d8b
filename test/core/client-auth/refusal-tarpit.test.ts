// RefusalTarpit: refusals held for refusalDelay (never past their Retry-After), bounded in number, released on close, dropped when the client leaves.
import { RefusalTarpit } from '../../../lib/core/client-auth/refusal-tarpit';

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('RefusalTarpit', () => {
  it('sends a held refusal after the delay, never later than its Retry-After', () => {
    const tarpit = new RefusalTarpit(5000, 10);
    const sent: string[] = [];
    expect(tarpit.hold(60, () => sent.push('long'))).toBeDefined();
    expect(tarpit.hold(2, () => sent.push('short'))).toBeDefined();
    jest.advanceTimersByTime(1999);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(sent).toEqual(['short']);
    jest.advanceTimersByTime(3000);
    expect(sent).toEqual(['short', 'long']);
    expect(tarpit.size).toBe(0);
  });

  it('holds at most maxDelayedRefusals at once: beyond them the caller sends at once', () => {
    const tarpit = new RefusalTarpit(1000, 2);
    expect(tarpit.hold(60, () => undefined)).toBeDefined();
    expect(tarpit.hold(60, () => undefined)).toBeDefined();
    expect(tarpit.hold(60, () => undefined)).toBeUndefined();
    jest.advanceTimersByTime(1000);
    expect(tarpit.hold(60, () => undefined)).toBeDefined();
  });

  it('holds nothing when the delay is 0', () => {
    expect(new RefusalTarpit(0, 10).hold(60, () => undefined)).toBeUndefined();
  });

  it('sends every held refusal on releaseAll, and never one whose client left', () => {
    const tarpit = new RefusalTarpit(60_000, 10);
    const sent: string[] = [];
    tarpit.hold(600, () => sent.push('a'));
    const cancel = tarpit.hold(600, () => sent.push('gone'));
    tarpit.hold(600, () => sent.push('b'));
    cancel?.();
    expect(tarpit.size).toBe(2);
    tarpit.releaseAll();
    expect(sent).toEqual(['a', 'b']);
    expect(tarpit.size).toBe(0);
    jest.advanceTimersByTime(60_000);
    expect(sent).toEqual(['a', 'b']);
  });

  it('never keeps the process alive for a held refusal (its timer is unref’d)', () => {
    jest.useRealTimers();
    const tarpit = new RefusalTarpit(60_000, 10);
    const spy = jest.spyOn(global, 'setTimeout');
    tarpit.hold(600, () => undefined);
    const timer = spy.mock.results[0]?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    tarpit.releaseAll();
    spy.mockRestore();
  });
});
