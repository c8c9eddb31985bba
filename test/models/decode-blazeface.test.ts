// The BlazeFace decoder on hand-made tensors: MediaPipe anchor grids, offsets from anchor
// centres, sigmoid scores, key points, weighted NMS, and the anchor-count check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anchorCentres, anchorGrids, computeGeometry, decode } from '../../src/models/index.js';
import { PerceptError } from '../../src/errors.js';
import { assertBox, manifest, outputs } from './helpers.js';
import { at } from '../helpers/at.js';

test('anchor grids of the front and back models hold 512 + 384 anchors', () => {
  const back = anchorGrids(256, 256, [16, 32, 32, 32], [2, 6]);
  assert.deepEqual(
    back?.map((g) => [g.stride, g.cols, g.rows, g.anchorsPerCell, g.count]),
    [
      [16, 16, 16, 2, 512],
      [32, 8, 8, 6, 384],
    ],
  );
  const front = anchorGrids(128, 128, [8, 16, 16, 16], [2, 2, 2, 2]);
  assert.deepEqual(
    front?.map((g) => g.count),
    [512, 384],
    'per-layer counts add up per grid',
  );
  assert.equal(anchorGrids(128, 128, [8, 16, 16, 16], [2, 6, 6]), undefined);
  const c = anchorCentres(at(front, 0), 128, 128);
  // Row-major cells, the anchors of one cell adjacent: anchor 2 is cell (1, 0).
  assert.deepEqual([...c.subarray(0, 6)], [4, 4, 4, 4, 12, 4]);
});

// A 32x32 model at strides [8,16,16,16]: 4x4x2 = 32 anchors, then 2x2x6 = 24.
const bf = (nms: object = {}) =>
  manifest(
    { type: 'blazeface', scores: ['s0', 's1'], boxes: ['b0', 'b1'], strides: [8, 16, 16, 16], anchorsPerCell: [2, 6], scoreThreshold: 0.4, nms },
    { input: { name: 'input:0', width: 32, height: 32, layout: 'NHWC' }, labels: ['face'] },
  );
const geom = computeGeometry(64, 64, { width: 32, height: 32, resize: 'stretch', align: 'topleft' });

function tensors(entries: Array<{ anchor: number; logit: number; box: number[] }>) {
  const s0 = new Float32Array(32).fill(-10);
  const b0 = new Float32Array(32 * 16);
  for (const e of entries) {
    s0[e.anchor] = e.logit;
    b0.set(e.box, e.anchor * 16);
  }
  return outputs({
    s0: [s0, [1, 32, 1]],
    s1: [new Float32Array(24).fill(-10), [1, 24, 1]],
    b0: [b0, [1, 32, 16]],
    b1: [new Float32Array(24 * 16), [1, 24, 16]],
  });
}
// Anchor 19 is cell (1, 2), second anchor: centre (12, 20) in input pixels.
const main = { anchor: 19, logit: 2, box: [1, -2, 8, 6, -2, -1, 2, -1, 0, 1, 0, 3, -4, 0, 4, 0] };

test('boxes and key points are offsets from the anchor centre; scores are sigmoids', () => {
  const dets = decode(tensors([main]), bf({ weighted: false }), geom);
  assert.equal(dets.length, 1);
  const d = at(dets, 0);
  assert.equal(d.label, 'face');
  assert.ok(Math.abs(d.confidence - 1 / (1 + Math.exp(-2))) < 1e-6);
  // centre (13, 18), 8x6 in input pixels; the source is twice the input.
  assertBox(d.box, [18, 30, 34, 42]);
  assert.deepEqual(d.keypoints, [
    [20, 38],
    [28, 38],
    [24, 42],
    [24, 46],
    [16, 40],
    [32, 40],
  ]);
});

test('weighted NMS merges overlapping faces into their score-weighted mean', () => {
  const second = { anchor: 18, logit: 0, box: [3, -2, 8, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] };
  const p = 1 / (1 + Math.exp(-2));
  const dets = decode(tensors([main, second]), bf(), geom);
  assert.equal(dets.length, 1);
  const mean = (a: number, b: number) => (a * p + b * 0.5) / (p + 0.5);
  assertBox(at(dets, 0).box, [2 * mean(9, 11), 30, 2 * mean(17, 19), 42], 1e-4);
  assert.ok(Math.abs(at(dets, 0).confidence - p) < 1e-6, 'the cluster keeps its best score');
  const plain = decode(tensors([main, second]), bf({ weighted: false }), geom);
  assertBox(at(plain, 0).box, [18, 30, 34, 42]);
  assert.equal(plain.length, 1);
});

test('huge logits stay finite and under-threshold anchors are dropped', () => {
  const dets = decode(
    tensors([
      { ...main, logit: 1e30 },
      { anchor: 0, logit: -0.5, box: new Array<number>(16).fill(0) },
    ]),
    bf(),
    geom,
  );
  assert.equal(dets.length, 1);
  assert.equal(at(dets, 0).confidence, 1);
});

test('an output with the wrong anchor count is ERR_DECODE with the grid it expected', () => {
  const o = tensors([]);
  o.s1 = { data: new Float32Array(20), dims: [1, 20, 1] };
  assert.throws(
    () => decode(o, bf(), geom),
    (e: unknown) =>
      PerceptError.is(e, 'ERR_DECODE') && e.message.includes("output 's1' has shape [1,20,1], expected [1,24,1] (2x2 cells x 6 anchors at stride 16)"),
  );
});
