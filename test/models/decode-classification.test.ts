// The classification decoder: optional softmax, top-k above the threshold, whole-image boxes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeGeometry, decode, softmax } from '../../src/models/index.js';
import { PerceptError } from '../../src/errors.js';
import { manifest, outputs } from './helpers.js';
import { at } from '../helpers/at.js';

const labels = ['cat', 'dog', 'bird', 'fish'];
const geom = computeGeometry(640, 480, { width: 64, height: 64, resize: 'stretch', align: 'topleft' });

test('top-k by score, above the threshold, boxes cover the image', () => {
  const m = manifest({ type: 'classification', topK: 3, scoreThreshold: 0.15 }, { outputs: ['p'], labels });
  const dets = decode(
    outputs({
      p: [
        [0.1, 0.5, 0.3, 0.1],
        [1, 4],
      ],
    }),
    m,
    geom,
  );
  assert.deepEqual(
    dets.map((d) => [d.label, d.classId, Number(d.confidence.toFixed(2))]),
    [
      ['dog', 1, 0.5],
      ['bird', 2, 0.3],
    ],
  );
  assert.deepEqual(at(dets, 0).box, [0, 0, 640, 480]);
  assert.deepEqual(at(dets, 0).boxNorm, [0, 0, 1, 1]);
});

test('softmax turns logits into probabilities, stable for large logits', () => {
  const p = softmax(Float32Array.from([1000, 1000, 999]));
  assert.ok(Math.abs(at(p, 0) - at(p, 1)) < 1e-7 && Math.abs(at(p, 0) + at(p, 1) + at(p, 2) - 1) < 1e-6);
  const m = manifest({ type: 'classification', topK: 1, softmax: true }, { outputs: ['p'], labels });
  const d = at(
    decode(
      outputs({
        p: [
          [0, Math.log(3), 0, 0],
          [1, 4, 1, 1],
        ],
      }),
      m,
      geom,
    ),
    0,
  );
  assert.equal(d.label, 'dog');
  assert.ok(Math.abs(d.confidence - 0.5) < 1e-6);
});

test('a batch or a label-count mismatch is ERR_DECODE', () => {
  const m = manifest({ type: 'classification' }, { outputs: ['p'], labels });
  assert.throws(
    () => decode(outputs({ p: [new Float32Array(8), [2, 4]] }), m, geom),
    (e: unknown) => PerceptError.is(e, 'ERR_DECODE') && /expected \[1,classes\]/.test(e.message),
  );
  assert.throws(
    () => decode(outputs({ p: [new Float32Array(5), [1, 5]] }), m, geom),
    (e: unknown) => PerceptError.is(e, 'ERR_DECODE') && /expected \[1,4\] for the manifest's 4 labels/.test(e.message),
  );
});
