// Checks on the bench's printed figures, which its JSON rounds to 0.001.
import assert from 'node:assert/strict';

/** `q` is `a / b`, all three printed to 0.001: within the range the rounding of each allows. */
export function nearQuotient(q: number, a: number, b: number, what: string): void {
  const e = 5e-4;
  const ends = [(a - e) / (b - e), (a - e) / (b + e), (a + e) / (b - e), (a + e) / (b + e)];
  assert.ok(q >= Math.min(...ends) - e && q <= Math.max(...ends) + e, `${what}: ${q} vs ${a} / ${b}`);
}
