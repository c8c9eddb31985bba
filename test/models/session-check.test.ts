// checkAgainstSession: a manifest that disagrees with the loaded model (input or output names,
// size, layout, type) is refused with ERR_MANIFEST_MISMATCH saying what to fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { checkAgainstSession, loadManifest, parseManifest, resolveModelFile } from '../../src/models/index.js';
import type { InputMetadata, ModelManifest } from '../../src/models/index.js';
import { PerceptError } from '../../src/errors.js';

const mismatch = (pattern: RegExp) => (e: unknown) => PerceptError.is(e, 'ERR_MANIFEST_MISMATCH') && pattern.test(e.message);

test('the built-in BlazeFace manifests match their real models', async () => {
  for (const name of ['blazeface-back', 'blazeface-front']) {
    const { manifest, dir } = await loadManifest(name);
    const s = await ort.InferenceSession.create(resolveModelFile(manifest, dir), { logSeverityLevel: 3 });
    checkAgainstSession(manifest, s.inputNames, s.outputNames, s.inputMetadata);
    // The same model against a manifest with the front/back size swapped must not pass.
    const other = { ...manifest, input: { ...manifest.input, width: 320, height: 320 } };
    assert.throws(() => checkAgainstSession(other, s.inputNames, s.outputNames, s.inputMetadata), mismatch(/is (256|128)x\1 \(WxH\) but the manifest says 320x320/));
    await s.release();
  }
});

const m: ModelManifest = parseManifest({ name: 'y', input: { name: 'images', width: 416, height: 416 }, outputs: ['output'], decoder: { type: 'yolox' } }, 't');
const meta = (shape: Array<number | string>, type = 'float32'): InputMetadata[] => [{ name: 'images', isTensor: true, type, shape }];

test('wrong input and output names name both sides and the field to fix', () => {
  assert.throws(
    () => checkAgainstSession(m, ['input:0'], ['output']),
    mismatch(/manifest input 'images' not among the model's inputs \[input:0\]; fix the manifest's input\.name/),
  );
  assert.throws(() => checkAgainstSession(m, ['images'], ['out', 'aux']), mismatch(/manifest output 'output' not among the model's outputs \[out, aux\]/));
});

test('shape checks: size, layout, channels, rank, type', () => {
  checkAgainstSession(m, ['images'], ['output'], meta([1, 3, 416, 416]));
  checkAgainstSession(m, ['images'], ['output'], meta(['batch', 3, 'h', 'w']));
  assert.throws(() => checkAgainstSession(m, ['images'], ['output'], meta([1, 3, 320, 320])), mismatch(/is 320x320 \(WxH\) but the manifest says 416x416; fix the manifest's input\.width\/height/));
  assert.throws(() => checkAgainstSession(m, ['images'], ['output'], meta([1, 416, 416, 3])), mismatch(/the model looks NHWC; fix the manifest's input\.layout/));
  assert.throws(() => checkAgainstSession(m, ['images'], ['output'], meta([1, 1, 416, 416])), mismatch(/has 1 channels .*percept feeds 3-channel images/));
  assert.throws(() => checkAgainstSession(m, ['images'], ['output'], meta([1, 416 * 416 * 3])), mismatch(/expected 4 dims \(NCHW\)/));
  assert.throws(() => checkAgainstSession(m, ['images'], ['output'], meta([1, 3, 416, 416], 'uint8')), mismatch(/takes uint8; percept feeds float32/));
});

test('all problems are reported at once', () => {
  assert.throws(() => checkAgainstSession(m, ['x'], ['y']), mismatch(/input 'images' .*; manifest output 'output'/));
});
