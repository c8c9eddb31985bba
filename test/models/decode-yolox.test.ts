// The YOLOX decoder on hand-made tensors: grid layout across strides, exp sizes, score =
// objectness x class, multi-label candidates with class-wise NMS, and the shape check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeGeometry, decode } from '../../src/models/index.js';
import { PerceptError } from '../../src/errors.js';
import { assertBox, manifest, outputs } from './helpers.js';
import { at } from '../helpers/at.js';

// 64x64 input at strides 8/16/32: 8x8 + 4x4 + 2x2 = 84 cells of (x, y, lw, lh, obj, 2 classes).
const CELLS = 84;
const ROW = 7;
function tensor(cells: Record<number, number[]>): Float32Array {
  const t = new Float32Array(CELLS * ROW);
  for (const [i, row] of Object.entries(cells)) t.set(row, Number(i) * ROW);
  return t;
}
const m = (nms = {}) => manifest({ type: 'yolox', scoreThreshold: 0.3, nms }, { outputs: ['output'], labels: ['cat', 'dog'] });
const identity = computeGeometry(64, 64, { width: 64, height: 64, resize: 'letterbox', align: 'topleft' });

test('cells map to boxes through their grid position and stride', () => {
  const data = tensor({
    // stride 8, gx 3, gy 2: centre (28, 20), w = 2 * 8, h = 1 * 8; dog 0.9 * 0.8
    19: [0.5, 0.5, Math.log(2), 0, 0.9, 0.1, 0.8],
    // stride 16 starts at 64: gx 2, gy 1 -> centre (32, 16), 16x16; cat 0.5 * 0.9
    70: [0, 0, 0, 0, 0.5, 0.9, 0.2],
    // stride 32 starts at 80: gx 1, gy 1 -> centre (32, 32), 32x32; objectness under threshold
    83: [0, 0, 0, 0, 0.29, 1, 1],
  });
  const dets = decode(outputs({ output: [data, [1, CELLS, ROW]] }), m(), identity);
  assert.deepEqual(
    dets.map((d) => [d.label, d.classId]),
    [
      ['dog', 1],
      ['cat', 0],
    ],
  );
  assert.ok(Math.abs(at(dets, 0).confidence - 0.72) < 1e-6);
  assertBox(at(dets, 0).box, [20, 16, 36, 24], 1e-4);
  assertBox(at(dets, 1).box, [24, 8, 40, 24]);
  assertBox(at(dets, 1).boxNorm, [24 / 64, 8 / 64, 40 / 64, 24 / 64]);
});

test('class-wise: every class above threshold in a cell is a candidate; agnostic keeps the best', () => {
  const data = tensor({ 19: [0.5, 0.5, 0, 0, 1, 0.8, 0.7] });
  const o = outputs({ output: [data, [1, CELLS, ROW]] });
  assert.deepEqual(
    decode(o, m(), identity).map((d) => d.label),
    ['cat', 'dog'],
  );
  assert.deepEqual(
    decode(o, m({ classAgnostic: true }), identity).map((d) => d.label),
    ['cat'],
  );
});

test('boxes map back through the letterbox scale', () => {
  const data = tensor({ 19: [0.5, 0.5, Math.log(2), 0, 0.9, 0.1, 0.8] });
  const geom = computeGeometry(128, 100, { width: 64, height: 64, resize: 'letterbox', align: 'topleft' });
  const d = at(decode(outputs({ output: [data, [1, CELLS, ROW]] }), m(), geom), 0);
  assertBox(d.box, [40, 32, 72, 48], 1e-3);
});

test('a tensor whose cell count does not fit the input size and strides is ERR_DECODE', () => {
  assert.throws(
    () => decode(outputs({ output: [new Float32Array(80 * ROW), [1, 80, ROW]] }), m(), identity),
    (e: unknown) =>
      PerceptError.is(e, 'ERR_DECODE') &&
      e.message.includes("output 'output' has shape [1,80,7], expected [1,84,5+classes] for a 64x64 input at strides 8/16/32"),
  );
  assert.throws(
    () => decode(outputs({ output: [new Float32Array(CELLS * 8), [1, CELLS, 8]] }), m(), identity),
    (e: unknown) => PerceptError.is(e, 'ERR_DECODE') && /expected \[1,84,7\] for the manifest's 2 labels/.test(e.message),
  );
});
