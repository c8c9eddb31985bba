// checkAgainstSession: a manifest that disagrees with the loaded model (input or output names,
// size, layout, type, label count) is refused with ERR_MANIFEST_MISMATCH saying what to fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { checkAgainstSession, loadManifest, parseManifest, resolveModelFile } from '../../src/models/index.js';
import type { InputMetadata, ModelManifest } from '../../src/models/index.js';
import { PerceptError } from '../../src/errors.js';
import fs from 'node:fs';
import path from 'node:path';
import { jsonLines, runCli } from '../helpers/cli.js';
import { image, ROOT, tempDir, YOLOX_NANO } from '../helpers/paths.js';

const mismatch = (pattern: RegExp) => (e: unknown) => PerceptError.is(e, 'ERR_MANIFEST_MISMATCH') && pattern.test(e.message);

test('the built-in BlazeFace manifests match their real models', async () => {
  for (const name of ['blazeface-back', 'blazeface-front']) {
    const { manifest, dir } = await loadManifest(name);
    const s = await ort.InferenceSession.create(resolveModelFile(manifest, dir), { logSeverityLevel: 3 });
    checkAgainstSession(manifest, s.inputNames, s.outputNames, s.inputMetadata);
    // The same model against a manifest with the front/back size swapped must not pass.
    const other = { ...manifest, input: { ...manifest.input, width: 320, height: 320 } };
    assert.throws(
      () => checkAgainstSession(other, s.inputNames, s.outputNames, s.inputMetadata),
      mismatch(/is (256|128)x\1 \(WxH\) but the manifest says 320x320/),
    );
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
  assert.throws(
    () => checkAgainstSession(m, ['images'], ['output'], meta([1, 3, 320, 320])),
    mismatch(/is 320x320 \(WxH\) but the manifest says 416x416; fix the manifest's input\.width\/height/),
  );
  assert.throws(
    () => checkAgainstSession(m, ['images'], ['output'], meta([1, 416, 416, 3])),
    mismatch(/the model looks NHWC; fix the manifest's input\.layout/),
  );
  assert.throws(() => checkAgainstSession(m, ['images'], ['output'], meta([1, 1, 416, 416])), mismatch(/has 1 channels .*percept feeds 3-channel images/));
  assert.throws(() => checkAgainstSession(m, ['images'], ['output'], meta([1, 416 * 416 * 3])), mismatch(/expected 4 dims \(NCHW\)/));
  assert.throws(() => checkAgainstSession(m, ['images'], ['output'], meta([1, 3, 416, 416], 'uint8')), mismatch(/takes uint8; percept feeds float32/));
});

test('all problems are reported at once', () => {
  assert.throws(() => checkAgainstSession(m, ['x'], ['y']), mismatch(/input 'images' .*; manifest output 'output'/));
});

test('the label count must fit the class axis of the output each decoder reads', () => {
  const out = (name: string, shape: Array<number | string>) => [{ name, isTensor: true, type: 'float32', shape }];
  const labels = (n: number) => Array.from({ length: n }, (_, i) => `c${i}`);
  const yolox = { ...m, labels: labels(80), manifestFile: '/models/y.json' };
  checkAgainstSession(yolox, ['images'], ['output'], undefined, out('output', [1, 3549, 85]));
  checkAgainstSession(yolox, ['images'], ['output'], undefined, out('output', [1, 'n', 'c']));
  checkAgainstSession({ ...m, labels: [] }, ['images'], ['output'], undefined, out('output', [1, 3549, 85]));
  assert.throws(
    () => checkAgainstSession({ ...yolox, labels: labels(3) }, ['images'], ['output'], undefined, out('output', [1, 3549, 85])),
    mismatch(
      /^model 'y' does not match its manifest \/models\/y\.json: the manifest lists 3 labels but output 'output' \[1,3549,85\] has 80 classes; fix the manifest's labels/,
    ),
  );
  const v8 = parseManifest(
    { name: 'v8', input: { name: 'images', width: 640, height: 640 }, outputs: ['o'], decoder: { type: 'yolov8' }, labels: labels(80) },
    't',
  );
  checkAgainstSession(v8, ['images'], ['o'], undefined, out('o', [1, 84, 8400]));
  checkAgainstSession(v8, ['images'], ['o'], undefined, out('o', [1, 8400, 84]));
  assert.throws(
    () => checkAgainstSession({ ...v8, labels: labels(2) }, ['images'], ['o'], undefined, out('o', [1, 84, 8400])),
    mismatch(/lists 2 labels but output 'o' \[1,84,8400\] has 80 or 8396 classes/),
  );
  const cls = parseManifest(
    { name: 'c', input: { name: 'images', width: 224, height: 224 }, outputs: ['p'], decoder: { type: 'classification' }, labels: labels(1000) },
    't',
  );
  checkAgainstSession(cls, ['images'], ['p'], undefined, out('p', [1, 1000]));
  assert.throws(
    () => checkAgainstSession(cls, ['images'], ['p'], undefined, out('p', [1, 1001])),
    mismatch(/lists 1000 labels but output 'p' \[1,1001\] has 1001 classes/),
  );
  const ssd = parseManifest(
    { name: 's', input: { name: 'images', width: 300, height: 300 }, decoder: { type: 'ssd', boxes: 'b', scores: 's', labelOffset: 1 }, labels: labels(90) },
    't',
  );
  checkAgainstSession(ssd, ['images'], ['b', 's'], undefined, [...out('b', [1, 100, 4]), ...out('s', [1, 100, 91])]);
  assert.throws(
    () => checkAgainstSession(ssd, ['images'], ['b', 's'], undefined, [...out('b', [1, 100, 4]), ...out('s', [1, 100, 90])]),
    mismatch(/lists 90 labels but output 's' \[1,100,90\] has 90 \(labelOffset 1\) classes/),
  );
});

test('percept run with the real YOLOX-Nano and a manifest of the wrong label count fails at start, before any frame', async () => {
  const dir = tempDir();
  const { manifest } = await loadManifest('yolox-nano');
  const file = path.join(dir, 'short-labels.json');
  const raw = JSON.parse(fs.readFileSync(path.join(ROOT, 'models', 'yolox-nano.json'), 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(file, JSON.stringify({ ...raw, labels: manifest.labels.slice(0, 79) }));
  const r = await runCli([
    'run',
    '--source',
    image('dog.jpg'),
    '--frames',
    '3',
    '--model',
    file,
    '--model-path',
    YOLOX_NANO,
    '--workers',
    '1',
    '--output',
    'jsonl',
    '--no-preview',
    '--state-dir',
    path.join(dir, 'state'),
  ]);
  assert.notEqual(r.code, 0, r.stderr);
  assert.ok(r.code !== null, 'exited by itself');
  assert.match(r.stderr + r.stdout, /ERR_MANIFEST_MISMATCH/);
  assert.ok(
    (r.stderr + r.stdout).includes(`does not match its manifest ${file}: the manifest lists 79 labels but output 'output' [1,3549,85] has 80 classes`),
    r.stderr,
  );
  assert.equal(jsonLines(r.stdout).filter((l) => 'detections' in l).length, 0, 'no frame was processed');
});
