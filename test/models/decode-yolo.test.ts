// YOLOv5 ([1,N,5+C], objectness) and YOLOv8/11 ([1,4+C,N], transposed, no objectness) decoders
// on hand-made tensors: scores, one label per box, NMS, thresholds, and layout detection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeGeometry, decode } from '../../src/models/index.js';
import { PerceptError } from '../../src/errors.js';
import { manifest, outputs, summary } from './helpers.js';
import { at } from '../helpers/at.js';

const labels = ['cat', 'dog', 'bird'];
const geom = computeGeometry(64, 64, { width: 64, height: 64, resize: 'stretch', align: 'topleft' });
// cx, cy, w, h, obj, cat, dog, bird
const rows = [
  [20, 30, 16, 8, 0.9, 0.1, 0.8, 0.1],
  [21, 30, 16, 8, 0.9, 0.1, 0.7, 0.1],
  [48, 40, 8, 8, 0.5, 0.2, 0.2, 0.5],
  [10, 10, 4, 4, 0.2, 0.9, 0, 0],
];

test('yolov5: score = objectness x best class, NMS per class', () => {
  const m = manifest({ type: 'yolov5', output: 'out' }, { labels });
  const dets = decode(outputs({ out: [rows.flat(), [1, 4, 8]] }), m, geom);
  // Row 2 scores 0.25 and row 3 has objectness 0.2: both under 0.3; row 1 is suppressed by row 0.
  assert.deepEqual(summary(dets), ['dog 0.72 [12,26,28,34]']);
  const low = manifest({ type: 'yolov5', output: 'out', scoreThreshold: 0.1 }, { labels });
  assert.deepEqual(summary(decode(outputs({ out: [rows.flat(), [1, 4, 8]] }), low, geom)), [
    'dog 0.72 [12,26,28,34]',
    'bird 0.25 [44,36,52,44]',
    'cat 0.18 [8,8,12,12]',
  ]);
});

function transposed(r: number[][]): number[] {
  const out: number[] = [];
  for (let c = 0; c < at(r, 0).length; c++) for (const row of r) out.push(at(row, c));
  return out;
}
const v8rows = rows.map((r) => [...r.slice(0, 4), ...r.slice(5)]);

test('yolov8: channel-major [1,4+C,N], class score alone', () => {
  const m = manifest({ type: 'yolov8' }, { outputs: ['output0'], labels });
  const dets = decode(outputs({ output0: [transposed(v8rows), [1, 7, 4]] }), m, geom);
  assert.deepEqual(summary(dets), ['cat 0.90 [8,8,12,12]', 'dog 0.80 [12,26,28,34]', 'bird 0.50 [44,36,52,44]']);
  assert.deepEqual(
    dets.map((d) => d.classId),
    [0, 1, 2],
  );
});

test('yolov8: a row-major [1,N,4+C] tensor is read as such when the labels say so', () => {
  const m = manifest({ type: 'yolov8' }, { outputs: ['output0'], labels });
  const dets = decode(outputs({ output0: [v8rows.flat(), [1, 4, 7]] }), m, geom);
  assert.deepEqual(summary(dets), ['cat 0.90 [8,8,12,12]', 'dog 0.80 [12,26,28,34]', 'bird 0.50 [44,36,52,44]']);
});

test('yolov8 without labels names classes by index', () => {
  const m = manifest({ type: 'yolov8' }, { outputs: ['output0'] });
  const dets = decode(outputs({ output0: [transposed(v8rows), [1, 7, 4]] }), m, geom);
  assert.deepEqual(
    dets.map((d) => d.label),
    ['class_0', 'class_1', 'class_2'],
  );
});

test('maxDetections caps the result', () => {
  const m = manifest({ type: 'yolov8', maxDetections: 2 }, { outputs: ['output0'], labels });
  assert.equal(decode(outputs({ output0: [transposed(v8rows), [1, 7, 4]] }), m, geom).length, 2);
});

test('wrong shapes are ERR_DECODE with the expected shape', () => {
  const v5 = manifest({ type: 'yolov5' }, { outputs: ['out'], labels });
  assert.throws(
    () => decode(outputs({ out: [new Float32Array(4 * 7), [1, 4, 7]] }), v5, geom),
    (e: unknown) =>
      PerceptError.is(e, 'ERR_DECODE') && e.message.includes("yolov5 decoder: output 'out' has shape [1,4,7], expected [1,N,8] for the manifest's 3 labels"),
  );
  const v8 = manifest({ type: 'yolov8' }, { outputs: ['out'], labels });
  assert.throws(
    () => decode(outputs({ out: [new Float32Array(2 * 9 * 4), [2, 9, 4]] }), v8, geom),
    (e: unknown) => PerceptError.is(e, 'ERR_DECODE') && e.message.includes('expected [1,4+classes,N]'),
  );
});
