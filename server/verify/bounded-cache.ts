import { LRUCache } from 'lru-cache';

/*
 * lru-cache's `max` allocates storage for every entry up front: ~3 MB per cache at 100,000
 * entries, paid at start by every replica whether or not it ever fills them. Counting each entry
 * as size 1 under `maxSize` keeps the same bound with storage that grows as the cache fills.
 */

/** Options of an LRU cache, less its bound. */
type Unbounded<K extends {}, V extends {}> = Omit<
  LRUCache.Options<K, V, unknown>,
  'max' | 'maxSize' | 'sizeCalculation'
>;

/** An LRU cache of at most `entries` entries, allocated as it fills. */
export function boundedCache<K extends {}, V extends {}>(
  entries: number,
  options: Unbounded<K, V> = {},
): LRUCache<K, V> {
  return new LRUCache<K, V>({ ...options, maxSize: entries, sizeCalculation: () => 1 });
}
