// Reading lists a test expects to be full enough: under noUncheckedIndexedAccess an index read
// may be undefined, and a test should fail saying so rather than on a TypeError further on.
import assert from 'node:assert/strict';

/** Item i of `items` (a negative i counts from the end); fails the test when there is none. */
export function at<T>(items: ArrayLike<T>, i: number): T {
  const k = i < 0 ? items.length + i : i;
  const v = items[k];
  assert.ok(v !== undefined, `expected an item at index ${i} of a list of ${items.length}`);
  return v;
}

/** A value the test expects to be there; fails the test naming `what` when it is not. */
export function must<T>(v: T | undefined | null, what = 'a value'): T {
  assert.ok(v !== undefined && v !== null, `expected ${what}`);
  return v;
}
