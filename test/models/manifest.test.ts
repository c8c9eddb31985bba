// Manifest validation: defaults filled in, derived fields, and every invalid manifest refused
// with ERR_MANIFEST_INVALID naming the field and what was expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { listBuiltinManifests, loadManifest, parseManifest } from '../../src/models/index.js';
import { PerceptError } from '../../src/errors.js';
import { tempDir } from '../helpers/paths.js';

const minimal = { name: 'm', input: { name: 'images', width: 320, height: 240 }, outputs: ['out'], decoder: { type: 'yolov5' } };

test('a minimal manifest gets the documented defaults', () => {
  const m = parseManifest(minimal, 'minimal');
  assert.deepEqual(m.input, {
    name: 'images',
    layout: 'NCHW',
    width: 320,
    height: 240,
    colorOrder: 'RGB',
    scale: 1,
    mean: [0, 0, 0],
    std: [1, 1, 1],
    resize: 'letterbox',
    padValue: 114,
    align: 'topleft',
  });
  assert.deepEqual(m.decoder, {
    type: 'yolov5',
    output: 'out',
    scoreThreshold: 0.3,
    nms: { iou: 0.45, classAgnostic: false, weighted: false },
    maxDetections: 100,
  });
  assert.equal(m.version, '1');
  assert.deepEqual(m.labels, []);
});

test('outputs are derived from the decoder when not listed', () => {
  const m = parseManifest({ ...minimal, outputs: undefined, decoder: { type: 'ssd', boxes: 'b', scores: 's', count: 'n' } }, 'ssd');
  assert.deepEqual(m.outputs, ['b', 's', 'n']);
  assert.equal(m.decoder.type === 'ssd' && m.decoder.boxFormat, 'yxyx');
});

test('the built-in manifests load and agree with the model README', async () => {
  assert.deepEqual(listBuiltinManifests(), ['blazeface-back', 'blazeface-front', 'yolox-nano']);
  const { manifest: y } = await loadManifest('yolox-nano');
  assert.equal(y.labels.length, 80);
  assert.deepEqual([y.labels[0], y.labels[16], y.labels[79]], ['person', 'dog', 'toothbrush']);
  assert.equal(y.input.colorOrder, 'BGR');
  assert.equal(y.file, undefined, 'YOLOX weights are supplied by the user');
  const { manifest: b } = await loadManifest('blazeface-back');
  assert.deepEqual(b.labels, ['face']);
  assert.equal(b.input.layout, 'NHWC');
  assert.ok(b.decoder.type === 'blazeface' && b.decoder.strides.join() === '16,32,32,32');
});

/** Asserts parseManifest refuses `json` with a message matching every pattern. */
function refuses(json: unknown, ...patterns: RegExp[]): void {
  assert.throws(
    () => parseManifest(json, 'bad.json'),
    (e: unknown) => {
      assert.ok(PerceptError.is(e, 'ERR_MANIFEST_INVALID'), `expected ERR_MANIFEST_INVALID, got ${String(e)}`);
      assert.match(e.message, /^invalid model manifest bad\.json: /);
      for (const p of patterns) assert.match(e.message, p);
      return true;
    },
  );
}

test('wrong types and ranges name the field, the expectation and the value', () => {
  refuses({ ...minimal, input: { ...minimal.input, width: 0 } }, /input\.width: Too small: expected number to be >0, got 0/);
  refuses({ ...minimal, input: { ...minimal.input, height: '240' } }, /input\.height: .*expected number, received string, got "240"/);
  refuses({ ...minimal, input: { ...minimal.input, mean: [1, 2] } }, /input\.mean: /, /got \[1,2\]/);
  refuses({ ...minimal, input: { ...minimal.input, std: 0 } }, /input\.std: /);
  refuses({ ...minimal, input: { ...minimal.input, layout: 'NCWH' } }, /input\.layout: Invalid option: expected one of "NCHW"\|"NHWC", got "NCWH"/);
  refuses({ ...minimal, decoder: { type: 'yolov5', scoreThreshold: 1.5 } }, /decoder\.scoreThreshold: Too big/);
  refuses({ ...minimal, decoder: { type: 'yolov5', nms: { iou: 0 } } }, /decoder\.nms\.iou: /);
});

test('missing fields, unknown decoders and typos are refused', () => {
  refuses({ input: minimal.input, decoder: minimal.decoder }, /name: Invalid input: expected string, received undefined/);
  refuses({ ...minimal, decoder: { type: 'yolo' } }, /decoder\.type: Invalid discriminator value\. Expected 'yolox' \| 'yolov5'/, /got "yolo"/);
  refuses({ ...minimal, decoder: { type: 'yolov5', scoreThresold: 0.3 } }, /decoder: Unrecognized key: "scoreThresold"/);
  refuses('not an object', /\(top level\): Invalid input: expected object/);
});

test('cross-field problems are refused with what to fix', () => {
  refuses({ ...minimal, decoder: { type: 'yolov5', output: 'other' } }, /outputs: decoder reads output 'other' which is not listed in outputs \[out\]; add it/);
  refuses({ ...minimal, outputs: ['a', 'b'] }, /decoder\.output: outputs lists 2 names; say which one the yolov5 decoder reads/);
  refuses({ ...minimal, outputs: undefined }, /decoder\.output: expected the name of the model output/);
  refuses({ ...minimal, labels: ['a'], labelsFile: 'l.txt' }, /labels, labelsFile: give one of them, not both/);
  const bf = { type: 'blazeface', scores: ['s0', 's1'], boxes: ['b0'], strides: [8, 16, 16, 16], anchorsPerCell: [2, 6] };
  refuses({ ...minimal, outputs: undefined, decoder: bf }, /decoder\.boxes: expected 2 output names \(one per anchor grid\), got 1/);
  refuses(
    { ...minimal, outputs: undefined, decoder: { ...bf, boxes: ['b0', 'b1'], anchorsPerCell: [2, 2, 2] } },
    /decoder\.anchorsPerCell: expected one count per distinct stride/,
  );
});

test('several problems are reported together', () => {
  refuses({ ...minimal, input: { ...minimal.input, width: -1, height: 0 } }, /input\.width: .*; input\.height: /);
});

test('loadManifest reads a path, its labelsFile, and reports bad files', async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'labels.txt'), 'cat\r\n\r\nbird\n\n');
  const file = path.join(dir, 'm.json');
  fs.writeFileSync(file, JSON.stringify({ ...minimal, labelsFile: 'labels.txt' }));
  const loaded = await loadManifest(file);
  assert.deepEqual(loaded.manifest.labels, ['cat', '', 'bird'], 'inner blank lines keep their index');
  assert.equal(loaded.dir, dir);

  fs.writeFileSync(file, JSON.stringify({ ...minimal, labelsFile: 'missing.txt' }));
  await assert.rejects(
    loadManifest(file),
    (e: unknown) => PerceptError.is(e, 'ERR_MANIFEST_INVALID') && /labelsFile: cannot read .*missing\.txt \(ENOENT\)/.test(e.message),
  );
  fs.writeFileSync(file, '{"name": ');
  await assert.rejects(
    loadManifest(file),
    (e: unknown) => PerceptError.is(e, 'ERR_MANIFEST_INVALID') && e.message.includes(`${file}: not valid JSON (it ends early)`),
  );
  await assert.rejects(
    loadManifest(path.join(dir, 'nope.json')),
    (e: unknown) => PerceptError.is(e, 'ERR_MODEL_NOT_FOUND') && /model manifest .*nope\.json cannot be read \(ENOENT\)/.test(e.message),
  );
});

test('an unknown built-in name lists the built-in models', async () => {
  await assert.rejects(
    loadManifest('yolov9-huge'),
    (e: unknown) =>
      PerceptError.is(e, 'ERR_MODEL_NOT_FOUND') &&
      e.message.includes("no built-in model 'yolov9-huge' (built-in: blazeface-back, blazeface-front, yolox-nano)"),
  );
});
