// Greedy NMS: class-wise and class-agnostic suppression, the detection cap, weighted merging,
// and agreement with a naive reference on many random boxes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { iou, nms, weightedNms } from '../../src/models/index.js';
import { at } from '../helpers/at.js';

test('iou of identical, disjoint, touching and partly overlapping boxes', () => {
  assert.equal(iou([0, 0, 10, 10], [0, 0, 10, 10]), 1);
  assert.equal(iou([0, 0, 10, 10], [20, 20, 30, 30]), 0);
  assert.equal(iou([0, 0, 10, 10], [10, 0, 20, 10]), 0);
  assert.equal(iou([0, 0, 10, 10], [5, 0, 15, 10]), 50 / 150);
  assert.equal(iou([0, 0, 0, 0], [0, 0, 0, 0]), 0);
});

// Three boxes: A (class 0, 0.9), B overlapping A by IoU 0.6 (class 1, 0.8), C overlapping A (class 0, 0.7).
const boxes = Float32Array.from([0, 0, 10, 10, 2.5, 0, 12.5, 10, 0, 1, 10, 11]);
const scores = Float32Array.from([0.9, 0.8, 0.7]);
const classes = Int32Array.from([0, 1, 0]);

test('class-wise NMS lets only the same class suppress', () => {
  assert.deepEqual([...nms(boxes, scores, classes, { iou: 0.45, classAgnostic: false }, 100)], [0, 1]);
});

test('class-agnostic NMS lets any class suppress', () => {
  assert.deepEqual([...nms(boxes, scores, classes, { iou: 0.45, classAgnostic: true }, 100)], [0]);
  assert.deepEqual([...nms(boxes, scores, undefined, { iou: 0.45, classAgnostic: false }, 100)], [0], 'no classes means one class');
});

test('the IoU threshold is strict and 1 keeps everything', () => {
  const same = Float32Array.from([0, 0, 10, 10, 0, 0, 10, 10]);
  assert.deepEqual([...nms(same, Float32Array.from([0.5, 0.6]), undefined, { iou: 1, classAgnostic: true }, 10)], [1, 0]);
  assert.deepEqual([...nms(boxes, scores, classes, { iou: 0.6, classAgnostic: true }, 10)], [0, 1]);
});

test('maxDetections caps the result, best first; ties keep input order', () => {
  const far = new Float32Array(5 * 4);
  for (let i = 0; i < 5; i++) far.set([i * 20, 0, i * 20 + 10, 10], i * 4);
  const s = Float32Array.from([0.1, 0.5, 0.5, 0.9, 0.3]);
  assert.deepEqual([...nms(far, s, undefined, { iou: 0.5, classAgnostic: true }, 3)], [3, 1, 2]);
  assert.equal(nms(new Float32Array(0), new Float32Array(0), undefined, { iou: 0.5, classAgnostic: true }, 3).length, 0);
});

test('weighted NMS averages each cluster by score and keeps the best score', () => {
  const b = Float32Array.from([0, 0, 10, 10, 2, 0, 12, 10, 50, 50, 60, 60]);
  const s = Float32Array.from([0.75, 0.25, 0.5]);
  const pts = Float32Array.from([1, 1, 3, 3, 9, 9]);
  const r = weightedNms(b, s, undefined, { iou: 0.3, classAgnostic: true }, 10, pts, 2);
  assert.deepEqual([...r.keep], [0, 2]);
  assert.deepEqual([...r.boxes], [0.5, 0, 10.5, 10, 50, 50, 60, 60]);
  assert.deepEqual([...r.extra], [1.5, 1.5, 9, 9]);
});

/** The textbook O(n^2) NMS the fast one must agree with. */
function naive(b: Float32Array, s: Float32Array, c: Int32Array, thr: number, agnostic: boolean): number[] {
  const order = [...s.keys()].sort((x, y) => at(s, y) - at(s, x) || x - y);
  const keep: number[] = [];
  for (const i of order) {
    const box = (k: number): [number, number, number, number] => [at(b, k * 4), at(b, k * 4 + 1), at(b, k * 4 + 2), at(b, k * 4 + 3)];
    if (keep.every((k) => (!agnostic && c[k] !== c[i]) || iou(box(k), box(i)) <= thr)) keep.push(i);
  }
  return keep;
}

test('agrees with a naive NMS on 3000 random boxes, class-wise and agnostic', () => {
  let seed = 12345;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const n = 3000;
  const b = new Float32Array(n * 4);
  const s = new Float32Array(n);
  const c = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const x = rand() * 600,
      y = rand() * 400,
      w = 5 + rand() * 80,
      h = 5 + rand() * 80;
    b.set([x, y, x + w, y + h], i * 4);
    s[i] = rand();
    c[i] = Math.floor(rand() * 4);
  }
  for (const agnostic of [false, true]) {
    const t0 = performance.now();
    const fast = [...nms(b, s, c, { iou: 0.45, classAgnostic: agnostic }, n)];
    const ms = performance.now() - t0;
    assert.deepEqual(fast, naive(b, s, c, 0.45, agnostic));
    assert.ok(fast.length > 100 && fast.length < n, `a meaningful number kept (${fast.length})`);
    assert.ok(ms < 1000, `3000 boxes took ${ms.toFixed(1)} ms`);
  }
});
