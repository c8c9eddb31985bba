// decode() as the dispatcher: every decoder reports a missing output or a tensor whose data does
// not fill its shape as ERR_DECODE, and a decoder refuses a manifest of another type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeGeometry, decode, decodeYolox, tensorData } from '../../src/models/index.js';
import { PerceptError } from '../../src/errors.js';
import { manifest, outputs } from './helpers.js';

const geom = computeGeometry(64, 64, { width: 64, height: 64, resize: 'stretch', align: 'topleft' });
const decoders: Array<Record<string, unknown>> = [
  { type: 'yolox', output: 'o' },
  { type: 'yolov5', output: 'o' },
  { type: 'yolov8', output: 'o' },
  { type: 'classification', output: 'o' },
  { type: 'ssd', boxes: 'o', scores: 's' },
  { type: 'blazeface', scores: ['o', 's'], boxes: ['b0', 'b1'], strides: [8, 16, 16, 16], anchorsPerCell: [2, 6] },
];

for (const d of decoders) {
  test(`${String(d.type)}: a missing output is ERR_DECODE naming it and what arrived`, () => {
    assert.throws(
      () => decode(outputs({ other: [[1], [1]] }), manifest(d), geom),
      (e: unknown) =>
        PerceptError.is(e, 'ERR_DECODE') &&
        e.message.includes(`${String(d.type)} decoder: output 'o' of model 'test' is missing from the results (got: other)`),
    );
  });
  test(`${String(d.type)}: data that does not fill the shape is ERR_DECODE`, () => {
    assert.throws(
      () =>
        decode(
          outputs({
            o: [
              [1, 2, 3],
              [1, 4],
            ],
          }),
          manifest(d),
          geom,
        ),
      (e: unknown) => PerceptError.is(e, 'ERR_DECODE') && e.message.includes("output 'o' has 3 values but its shape [1,4] needs 4"),
    );
  });
}

test('a decoder handed a manifest of another type refuses it', () => {
  assert.throws(
    () => decodeYolox({}, manifest({ type: 'yolov5', output: 'o' }), geom),
    (e: unknown) => PerceptError.is(e, 'ERR_DECODE') && /whose decoder is yolov5/.test(e.message),
  );
});

test('tensorData converts int64 and int32 data to float32', () => {
  assert.deepEqual([...tensorData(BigInt64Array.from([1n, -2n]), [2]).data], [1, -2]);
  assert.deepEqual([...tensorData(Int32Array.from([7]), [1]).data], [7]);
  const f = Float32Array.from([0.5]);
  assert.equal(tensorData(f, [1]).data, f, 'float32 passes through without a copy');
});
