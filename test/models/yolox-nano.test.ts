// YOLOX-Nano on the shared images must reproduce the reference detections of
// shared/models/README.md: same labels, same order of confidence, IoU >= 0.9 with each box.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { checkAgainstSession, decode, loadManifest, resolveModelFile } from '../../src/models/index.js';
import type { ModelManifest } from '../../src/models/index.js';
import { image, YOLOX_NANO } from '../helpers/paths.js';
import { prepare } from './preprocess.js';
import { iouOf, run } from './helpers.js';
import { at } from '../helpers/at.js';

const reference: Record<string, Array<[string, number, number[]]>> = {
  'dog.jpg': [
    ['dog', 0.85, [133, 205, 323, 543]],
    ['car', 0.82, [467, 78, 693, 171]],
    ['bicycle', 0.82, [61, 133, 572, 428]],
  ],
  'astronaut.png': [['person', 0.92, [12, 20, 369, 507]]],
  'camera.png': [['person', 0.93, [5, 64, 300, 502]]],
  'coffee.png': [
    ['cup', 0.9, [162, 16, 421, 295]],
    ['dining table', 0.74, [0, 0, 599, 398]],
  ],
  'motorcycle_left.png': [
    ['motorcycle', 0.89, [109, 66, 711, 446]],
    ['person', 0.4, [348, 8, 405, 87]],
  ],
  'chelsea.png': [['cat', 0.65, [0, 0, 451, 300]]],
};

let session: ort.InferenceSession;
let manifest: ModelManifest;

before(async () => {
  const loaded = await loadManifest('yolox-nano');
  manifest = loaded.manifest;
  session = await ort.InferenceSession.create(resolveModelFile(manifest, loaded.dir, YOLOX_NANO), { intraOpNumThreads: 1 });
  checkAgainstSession(manifest, session.inputNames, session.outputNames, session.inputMetadata);
});
after(() => session.release());

for (const [name, expected] of Object.entries(reference)) {
  test(`yolox-nano on ${name}`, async () => {
    const p = await prepare(image(name), manifest.input);
    const outputs = await run(session, { images: new ort.Tensor('float32', p.data, p.dims) });
    const dets = decode(outputs, manifest, p.geom);
    assert.deepEqual(
      dets.map((d) => d.label),
      expected.map((e) => e[0]),
      `labels of ${name}`,
    );
    expected.forEach(([label, score, box], i) => {
      const d = at(dets, i);
      assert.ok(Math.abs(d.confidence - score) < 0.02, `${label} confidence ${d.confidence.toFixed(3)}, reference ${score}`);
      const overlap = iouOf(d.box, box);
      assert.ok(overlap >= 0.9, `${label} box [${d.box.map(Math.round).join(',')}] vs reference [${box.join(',')}]: IoU ${overlap.toFixed(3)}`);
      for (const v of d.boxNorm) assert.ok(v >= 0 && v <= 1, 'boxNorm lies in the image');
    });
  });
}
