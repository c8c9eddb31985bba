// The SSD decoder on hand-made tensors: box order and units, class ids with an offset, the
// detection count, per-class score matrices with a background column, and shape checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeGeometry, decode } from '../../src/models/index.js';
import { PerceptError } from '../../src/errors.js';
import { manifest, outputs, summary } from './helpers.js';

const labels = ['person', 'car'];
const geom = computeGeometry(200, 100, { width: 100, height: 100, resize: 'stretch', align: 'topleft' });
const input = { width: 100, height: 100 };

test('TF OD API layout: yxyx normalised, 1-based classes, count respected', () => {
  const m = manifest({ type: 'ssd', boxes: 'b', scores: 's', classes: 'c', count: 'n', labelOffset: 1 }, { input, labels });
  const o = outputs({
    b: [
      [0.1, 0.2, 0.5, 0.6, 0, 0, 1, 1, 0, 0, 1, 1],
      [1, 3, 4],
    ],
    s: [
      [0.9, 0.8, 0.99],
      [1, 3],
    ],
    c: [
      [2, 1, 1],
      [1, 3],
    ],
    n: [[2], [1]],
  });
  // Source is 200 wide and stretched to 100: x doubles.
  assert.deepEqual(summary(decode(o, m, geom)), ['car 0.90 [40,10,120,50]', 'person 0.80 [0,0,200,100]']);
});

test('xyxy in input pixels; class 0 below the offset (background) is never reported', () => {
  const m = manifest({ type: 'ssd', boxes: 'b', scores: 's', classes: 'c', boxFormat: 'xyxy', boxUnits: 'pixels', labelOffset: 1 }, { input, labels });
  const o = outputs({
    b: [
      [10, 20, 30, 40, 10, 20, 30, 40],
      [1, 2, 4],
    ],
    s: [
      [0.9, 0.7],
      [1, 2],
    ],
    c: [
      [0, 1],
      [1, 2],
    ],
  });
  assert.deepEqual(summary(decode(o, m, geom)), ['person 0.70 [20,20,60,40]']);
});

test('without a classes output every box is class 0', () => {
  const m = manifest({ type: 'ssd', boxes: 'b', scores: 's', boxFormat: 'xyxy' }, { input, labels: ['face'] });
  const o = outputs({
    b: [
      [0, 0, 0.5, 0.5],
      [1, 1, 4],
    ],
    s: [[0.5], [1, 1]],
  });
  assert.deepEqual(summary(decode(o, m, geom)), ['face 0.50 [0,0,100,50]']);
});

test('per-class scores [1,N,C]: the best non-background class wins', () => {
  const m = manifest({ type: 'ssd', boxes: 'b', scores: 's', boxFormat: 'xyxy', labelOffset: 1 }, { input, labels });
  const o = outputs({
    b: [
      [0, 0, 0.5, 0.5, 0.5, 0.5, 1, 1],
      [1, 2, 4],
    ],
    // columns: background, person, car. Box 0: car; box 1: background dominates, person 0.2 under threshold.
    s: [
      [0.05, 0.15, 0.8, 0.7, 0.2, 0.1],
      [1, 2, 3],
    ],
  });
  assert.deepEqual(summary(decode(o, m, geom)), ['car 0.80 [0,0,100,50]']);
});

test('class-wise NMS, then the count of boxes', () => {
  const m = manifest({ type: 'ssd', boxes: 'b', scores: 's', classes: 'c', boxFormat: 'xyxy' }, { input, labels });
  const o = outputs({
    b: [
      [0, 0, 0.5, 0.5, 0, 0, 0.5, 0.45, 0, 0, 0.5, 0.5],
      [1, 3, 4],
    ],
    s: [
      [0.9, 0.8, 0.7],
      [1, 3],
    ],
    c: [
      [0, 0, 1],
      [1, 3],
    ],
  });
  assert.deepEqual(summary(decode(o, m, geom)), ['person 0.90 [0,0,100,50]', 'car 0.70 [0,0,100,50]']);
});

test('mismatched shapes are ERR_DECODE naming the output', () => {
  const m = manifest({ type: 'ssd', boxes: 'b', scores: 's', classes: 'c' }, { input, labels });
  const bad = (o: ReturnType<typeof outputs>, re: RegExp) =>
    assert.throws(
      () => decode(o, m, geom),
      (e: unknown) => PerceptError.is(e, 'ERR_DECODE') && re.test(e.message),
    );
  bad(
    outputs({
      b: [new Float32Array(6), [1, 2, 3]],
      s: [
        [1, 1],
        [1, 2],
      ],
      c: [
        [0, 0],
        [1, 2],
      ],
    }),
    /output 'b' has shape \[1,2,3\], expected \[1,N,4\]/,
  );
  bad(
    outputs({
      b: [new Float32Array(8), [1, 2, 4]],
      s: [
        [1, 1, 1],
        [1, 3],
      ],
      c: [
        [0, 0],
        [1, 2],
      ],
    }),
    /output 's' has shape \[1,3\], expected \[1,2\] or \[1,2,classes\]/,
  );
  bad(
    outputs({
      b: [new Float32Array(8), [1, 2, 4]],
      s: [
        [1, 1],
        [1, 2],
      ],
    }),
    /output 'c' of model 'test' is missing from the results \(got: b, s\)/,
  );
});
