// End to end on tiny models built by scripts/make-test-models.py: ONNX Runtime runs them, the
// outputs go through decode() with a manifest loaded from disk, and the boxes must be exact.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { checkAgainstSession, computeGeometry, decode, loadManifest, resolveModelFile } from '../../src/models/index.js';
import type { Detection } from '../../src/types.js';
import { ROOT, tempDir } from '../helpers/paths.js';
import { assertBox, run } from './helpers.js';
import { at } from '../helpers/at.js';

const dir = tempDir('percept-models-');
const labels = ['cat', 'dog', 'bird'];
const detector = { name: 'images', width: 64, height: 64, resize: 'letterbox', align: 'center' };

before(() => {
  const r = spawnSync('/usr/bin/python3', [path.join(ROOT, 'scripts', 'make-test-models.py'), dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, `make-test-models.py failed: ${r.stderr}`);
  assert.deepEqual(r.stdout.trim().split('\n'), ['classifier.onnx', 'ssd-customvision.onnx', 'ssd-tf.onnx', 'yolov5.onnx', 'yolov8.onnx']);
});

/** Writes a manifest next to the models, loads it back, runs its model on `pixels` and decodes. */
async function detect(json: Record<string, unknown>, srcW: number, srcH: number, pixels?: Float32Array): Promise<Detection[]> {
  const file = path.join(dir, `${String(json.name)}.json`);
  fs.writeFileSync(file, JSON.stringify(json));
  const { manifest, dir: mdir } = await loadManifest(file);
  const session = await ort.InferenceSession.create(resolveModelFile(manifest, mdir));
  try {
    checkAgainstSession(manifest, session.inputNames, session.outputNames, session.inputMetadata);
    const { width, height } = manifest.input;
    const data = pixels ?? new Float32Array(3 * width * height).fill(0.5);
    const outputs = await run(session, { [manifest.input.name]: new ort.Tensor('float32', data, [1, 3, height, width]) });
    return decode(outputs, manifest, computeGeometry(srcW, srcH, manifest.input));
  } finally {
    await session.release();
  }
}

function expectDetections(actual: Detection[], expected: Array<[string, number, number[]]>): void {
  assert.deepEqual(
    actual.map((d) => d.label),
    expected.map((e) => e[0]),
  );
  expected.forEach(([label, score, box], i) => {
    assert.ok(Math.abs(at(actual, i).confidence - score) < 1e-6, `${label} confidence ${at(actual, i).confidence} is not ${score}`);
    assertBox(at(actual, i).box, box, 1e-4, label);
  });
}

// A 128x64 source letterboxed (centred) into 64x64: scale 0.5, 16 px of padding above, so
// source = ((input x) * 2, (input y - 16) * 2).
test('YOLOv5-style [1,N,5+C]: objectness x class, class-wise NMS', async () => {
  const dets = await detect({ name: 'v5', file: 'yolov5.onnx', input: detector, outputs: ['output'], decoder: { type: 'yolov5' }, labels }, 128, 64);
  expectDetections(dets, [
    ['dog', 0.72, [24, 20, 56, 36]],
    ['cat', 0.63, [26, 20, 58, 36]],
    ['bird', 0.4, [88, 40, 104, 56]],
  ]);
});

test('YOLOv8-style [1,4+C,N] through a real Transpose', async () => {
  const dets = await detect({ name: 'v8', file: 'yolov8.onnx', input: detector, decoder: { type: 'yolov8', output: 'output0' }, labels }, 128, 64);
  expectDetections(dets, [
    ['cat', 0.9, [16, 12, 24, 20]],
    ['dog', 0.8, [24, 20, 56, 36]],
    ['cat', 0.7, [26, 20, 58, 36]],
    ['bird', 0.5, [88, 40, 104, 56]],
  ]);
});

test('YOLOv8-style with class-agnostic NMS drops the overlapping cat', async () => {
  const dets = await detect(
    { name: 'v8a', file: 'yolov8.onnx', input: detector, decoder: { type: 'yolov8', output: 'output0', nms: { classAgnostic: true } }, labels },
    128,
    64,
  );
  assert.deepEqual(
    dets.map((d) => d.label),
    ['cat', 'dog', 'bird'],
  );
});

test('SSD, TF Object Detection API layout (yxyx, 1-based float classes, count)', async () => {
  const decoder = { type: 'ssd', boxes: 'detection_boxes', scores: 'detection_scores', classes: 'detection_classes', count: 'num_detections', labelOffset: 1 };
  const dets = await detect({ name: 'tf', file: 'ssd-tf.onnx', input: detector, decoder, labels }, 128, 64);
  expectDetections(dets, [
    ['cat', 0.9, [16, 0, 48, 32]],
    ['bird', 0.6, [64, 32, 128, 64]],
  ]);
});

test('SSD, Azure Custom Vision layout (xyxy, int64 classes, no count)', async () => {
  const decoder = { type: 'ssd', boxes: 'detected_boxes', scores: 'detected_scores', classes: 'detected_classes', boxFormat: 'xyxy' };
  const dets = await detect({ name: 'cv', file: 'ssd-customvision.onnx', input: detector, decoder, labels }, 128, 64);
  expectDetections(dets, [
    ['cat', 0.8, [64, 0, 96, 32]],
    ['bird', 0.5, [64, 0, 96, 32]],
  ]);
});

test('classification: the logits are channel means of the image fed in', async () => {
  const pixels = new Float32Array(3 * 64);
  [1, 3, 2].forEach((v, c) => pixels.fill(v, c * 64, (c + 1) * 64));
  const input = { name: 'images', width: 8, height: 8, resize: 'stretch' };
  const dets = await detect(
    { name: 'cls', file: 'classifier.onnx', input, decoder: { type: 'classification', output: 'logits', topK: 2, softmax: true }, labels },
    640,
    480,
    pixels,
  );
  const z = Math.exp(1) + Math.exp(3) + Math.exp(2);
  expectDetections(dets, [
    ['dog', Math.exp(3) / z, [0, 0, 640, 480]],
    ['bird', Math.exp(2) / z, [0, 0, 640, 480]],
  ]);
});
