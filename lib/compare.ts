/**
 * Comparators for sorting by text. Code-unit order (as `<` on strings), not `localeCompare`:
 * the order of flows, keys and messages must not depend on the machine's locale.
 */

/** -1, 0 or 1 as `a` sorts before, with or after `b`. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sort by a text key of each item. */
export function byKey<T>(key: (t: T) => string): (a: T, b: T) => number {
  return (a, b) => compareStrings(key(a), key(b));
}

/** Comparators in turn: the first that tells two items apart decides. */
export function thenBy<T>(...comparators: ReadonlyArray<(a: T, b: T) => number>): (a: T, b: T) => number {
  return (a, b) => {
    for (const c of comparators) {
      const d = c(a, b);
      if (d !== 0) return d;
    }
    return 0;
  };
}
