// The worker's preprocessing (sharp resize, then padding, reordering and normalising in one
// loop) must give the same tensor as the plain reference in test/models/preprocess.ts, which
// pads with sharp's extend: for every shipped manifest and for centred, top-left and stretched
// placements, on every shared photo, encoded and as raw RGB.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { loadManifest } from '../../src/models/index.js';
import type { InputSpec } from '../../src/models/index.js';
import { preprocess, toTensor } from '../../src/inference/preprocess.js';
import { PerceptError } from '../../src/errors.js';
import { SHARED_IMAGES, tempDir } from '../helpers/paths.js';
import { prepare } from '../models/preprocess.js';
import { at } from '../helpers/at.js';

async function inputsUnderTest(): Promise<Array<[string, InputSpec]>> {
  const yolox = (await loadManifest('yolox-nano')).manifest.input;
  const back = (await loadManifest('blazeface-back')).manifest.input;
  const front = (await loadManifest('blazeface-front')).manifest.input;
  return [
    ['yolox-nano (NCHW, BGR, top-left, pad 114)', yolox],
    ['blazeface-back (NHWC, RGB, centred, pad 0)', back],
    ['blazeface-front', front],
    ['NCHW centred, mean/std', { ...yolox, align: 'center', padValue: 30, scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }],
    ['NHWC top-left, BGR, odd size', { ...back, width: 301, height: 199, align: 'topleft', colorOrder: 'BGR', padValue: 200 }],
    ['stretch', { ...yolox, resize: 'stretch' }],
  ];
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: tensor length`);
  for (let i = 0; i < actual.length; i++) {
    if (Math.abs(at(actual, i) - at(expected, i)) > 1e-5 * Math.max(1, Math.abs(at(expected, i)))) {
      assert.fail(`${what}: element ${i} is ${actual[i]}, the reference has ${expected[i]}`);
    }
  }
}

test('preprocess matches the sharp-extend reference for every placement, layout and colour order', async () => {
  const names = fs.readdirSync(SHARED_IMAGES).filter((n) => /\.(png|jpe?g)$/i.test(n));
  assert.ok(names.length >= 6, 'the shared photos are there');
  const dir = tempDir();
  for (const [label, input] of await inputsUnderTest()) {
    // A reused buffer holding the previous frame's values must be fully overwritten.
    const reused = new Float32Array(input.width * input.height * 3).fill(Number.NaN);
    for (const name of names) {
      const file = path.join(SHARED_IMAGES, name);
      const expected = await prepare(file, input);
      const encoded = await preprocess(fs.readFileSync(file), 'encoded', 0, 0, input, reused);
      assert.deepEqual(encoded.geom, expected.geom, `${label} ${name}: geometry`);
      assertClose(encoded.tensor, expected.data, `${label} ${name}`);
    }
    // Raw RGB frames (as ffmpeg's rawvideo delivers them) take the same path.
    const { data, info } = await sharp(path.join(SHARED_IMAGES, at(names, 0)))
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const png = path.join(dir, 'raw.png');
    await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
      .png()
      .toFile(png);
    const expected = await prepare(png, input);
    const raw = await preprocess(data, 'rgb24', info.width, info.height, input);
    assertClose(raw.tensor, expected.data, `${label} raw rgb24`);
  }
});

test('toTensor refuses an image that does not fit the input', async () => {
  const input = (await loadManifest('yolox-nano')).manifest.input;
  const rgb = Buffer.alloc(10 * 10 * 3);
  assert.throws(
    () => toTensor({ rgb, width: 10, height: 10, left: 410, top: 0 }, input),
    (e: unknown) => PerceptError.is(e, 'ERR_FRAME_CORRUPT'),
  );
  assert.throws(
    () => toTensor({ rgb: rgb.subarray(0, 10), width: 10, height: 10, left: 0, top: 0 }, input),
    (e: unknown) => PerceptError.is(e, 'ERR_FRAME_CORRUPT'),
  );
});
