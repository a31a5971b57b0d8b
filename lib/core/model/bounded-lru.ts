// An LRU cache bounded in entries whose memory grows with what it holds: lru-cache bounded by size, each entry counting 1.
import { LRUCache } from 'lru-cache';

/**
 * An LRU cache of at most `max` entries, least recently used dropped first, that allocates as it
 * fills. lru-cache's `max` allocates two arrays of `max` slots when the cache is made (800 KB for
 * 50,000 entries), and the library's caches held 4.7 MB of them from the first request, most for
 * abuse that never came. In the old generation for the life of the process, they made every young
 * collection of an Express 5 server slower: about 6 µs a response for a route that never used them
 * (bench/README.md, sixth session). Bounded by `maxSize` with every entry of size 1, lru-cache
 * grows its arrays instead, with the same eviction.
 */
export function boundedLru<K extends {}, V extends {}>(max: number): LRUCache<K, V> {
  return new LRUCache<K, V>({ maxSize: max, sizeCalculation: one });
}

function one(): number {
  return 1;
}
