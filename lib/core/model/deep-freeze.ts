// deepFreeze(): makes an object shared by many requests (a cached verification, a kept client row) unchangeable by any of them.

/** Freezes `value` and everything it holds, in place, and returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
