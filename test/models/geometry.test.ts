// Letterbox and stretch geometry: scale, padding, resized size, and mapping boxes back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeGeometry, resizedSize, toSource, pointToSource } from '../../src/models/index.js';
import { PerceptError } from '../../src/errors.js';
import { assertBox } from './helpers.js';

const square = { width: 416, height: 416 } as const;

test('letterbox top-left scales by the smaller ratio and pads right/bottom only', () => {
  const g = computeGeometry(640, 480, { ...square, resize: 'letterbox', align: 'topleft' });
  assert.equal(g.scaleX, 0.65);
  assert.equal(g.scaleY, 0.65);
  assert.deepEqual([g.padX, g.padY], [0, 0]);
  assert.deepEqual(resizedSize(g), { width: 416, height: 312 });
  assert.deepEqual([g.srcWidth, g.srcHeight, g.inputWidth, g.inputHeight], [640, 480, 416, 416]);
});

test('letterbox centred splits the padding, the odd pixel going right/bottom', () => {
  const g = computeGeometry(640, 480, { ...square, resize: 'letterbox', align: 'center' });
  assert.deepEqual([g.padX, g.padY], [0, 52]);
  const tall = computeGeometry(300, 451, { width: 256, height: 256, resize: 'letterbox', align: 'center' });
  const r = resizedSize(tall);
  assert.deepEqual(r, { width: 170, height: 256 });
  assert.equal(tall.padX, 43); // (256 - 170) / 2
  assert.equal(tall.padY, 0);
});

test('resized size is rounded and never exceeds the input', () => {
  const g = computeGeometry(451, 300, { ...square, resize: 'letterbox', align: 'topleft' });
  assert.deepEqual(resizedSize(g), { width: 416, height: Math.round(300 * (416 / 451)) });
  const tiny = computeGeometry(10000, 1, { ...square, resize: 'letterbox', align: 'topleft' });
  assert.deepEqual(resizedSize(tiny), { width: 416, height: 1 });
});

test('stretch scales each axis on its own, with no padding', () => {
  const g = computeGeometry(640, 480, { width: 320, height: 320, resize: 'stretch', align: 'center' });
  assert.deepEqual([g.scaleX, g.scaleY, g.padX, g.padY], [0.5, 320 / 480, 0, 0]);
  assert.deepEqual(resizedSize(g), { width: 320, height: 320 });
});

test('toSource undoes padding and scale, and normalises to the source', () => {
  const g = computeGeometry(640, 480, { ...square, resize: 'letterbox', align: 'center' });
  // A source box [64, 48, 320, 240] lands at input [41.6, 83.2, 208, 208].
  const { box, boxNorm } = toSource([41.6, 31.2 + 52, 208, 156 + 52], g);
  assertBox(box, [64, 48, 320, 240], 1e-9);
  assertBox(boxNorm, [0.1, 0.1, 0.5, 0.5], 1e-12);
});

test('toSource clamps boxes that spill into the padding or off the image', () => {
  const g = computeGeometry(640, 480, { ...square, resize: 'letterbox', align: 'center' });
  const { box, boxNorm } = toSource([-10, 0, 500, 416], g);
  assert.deepEqual(box, [0, 0, 640, 480]);
  assert.deepEqual(boxNorm, [0, 0, 1, 1]);
  assert.deepEqual(pointToSource(0, 52, g), [0, 0]);
});

test('a frame without a size is refused with ERR_FRAME_CORRUPT', () => {
  for (const [w, h] of [
    [0, 480],
    [640, -1],
    [Number.NaN, 10],
  ] as const) {
    assert.throws(
      () => computeGeometry(w, h, { ...square, resize: 'letterbox', align: 'topleft' }),
      (e: unknown) => PerceptError.is(e, 'ERR_FRAME_CORRUPT') && /not a positive size/.test(e.message),
    );
  }
});
