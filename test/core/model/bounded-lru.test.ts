// boundedLru: an LRU cache bounded in entries that allocates as it fills, not when it is made.
import { getHeapSpaceStatistics } from 'node:v8';
import { boundedLru } from '../../../lib/core/model/bounded-lru';

const largeObjectSpace = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'large_object_space')?.space_used_size ?? 0;

describe('boundedLru', () => {
  it('keeps at most max entries, dropping the least recently used first', () => {
    const cache = boundedLru<string, number>(3);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    expect(cache.get('a')).toBe(1); // 'b' is now the least recently used
    cache.set('d', 4);
    expect(cache.size).toBe(3);
    expect(cache.has('b')).toBe(false);
    expect([...cache.keys()].sort()).toEqual(['a', 'c', 'd']);
    cache.set('a', 5); // replacing an entry does not grow the cache
    expect(cache.size).toBe(3);
    expect(cache.get('a')).toBe(5);
  });

  it('allocates nothing up front for its bound (lru-cache max would take 16 MB for a million entries)', () => {
    const before = largeObjectSpace();
    const cache = boundedLru<string, number>(1_000_000);
    const grown = largeObjectSpace() - before;
    cache.set('one', 1);
    expect(cache.get('one')).toBe(1);
    expect(grown).toBeLessThan(64 * 1024);
  });
});
