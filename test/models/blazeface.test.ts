// BlazeFace (the default model) on the shared images: exactly one face, where the face is, in
// astronaut.png and camera.png (grayscale), none in dog.jpg; key points fall inside the face.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { checkAgainstSession, decode, loadManifest, resolveModelFile } from '../../src/models/index.js';
import type { ModelManifest } from '../../src/models/index.js';
import { image } from '../helpers/paths.js';
import { prepare } from './preprocess.js';
import { iouOf, run } from './helpers.js';
import { at } from '../helpers/at.js';

const faces: Record<string, number[] | null> = {
  'astronaut.png': [180, 62, 268, 173],
  'camera.png': [198, 109, 260, 195],
  'dog.jpg': null,
};

for (const model of ['blazeface-back', 'blazeface-front']) {
  describe(model, () => {
    let session: ort.InferenceSession;
    let manifest: ModelManifest;
    before(async () => {
      const loaded = await loadManifest(model);
      manifest = loaded.manifest;
      session = await ort.InferenceSession.create(resolveModelFile(manifest, loaded.dir), { intraOpNumThreads: 1, logSeverityLevel: 3 });
      checkAgainstSession(manifest, session.inputNames, session.outputNames, session.inputMetadata);
    });
    after(() => session.release());

    for (const [name, face] of Object.entries(faces)) {
      test(`${model} on ${name}: ${face === null ? 'no face' : 'one face'}`, async () => {
        const p = await prepare(image(name), manifest.input);
        const outputs = await run(session, { [manifest.input.name]: new ort.Tensor('float32', p.data, p.dims) });
        const dets = decode(outputs, manifest, p.geom);
        if (face === null) {
          assert.deepEqual(
            dets.map((d) => `${d.confidence.toFixed(2)} [${d.box.map(Math.round).join(',')}]`),
            [],
          );
          return;
        }
        assert.equal(dets.length, 1, `faces found: ${dets.map((d) => `${d.confidence.toFixed(2)} [${d.box.map(Math.round).join(',')}]`).join('; ')}`);
        const d = at(dets, 0);
        assert.equal(d.label, 'face');
        const overlap = iouOf(d.box, face);
        assert.ok(overlap >= 0.4, `face [${d.box.map(Math.round).join(',')}] vs [${face.join(',')}]: IoU ${overlap.toFixed(3)}`);
        assert.equal(d.keypoints?.length, 6);
        // Eyes, nose and mouth lie inside the box (ears may sit on its edge).
        for (const [x, y] of d.keypoints.slice(0, 4))
          assert.ok(x >= at(d.box, 0) && x <= at(d.box, 2) && y >= at(d.box, 1) && y <= at(d.box, 3), `key point (${x}, ${y}) inside the face`);
      });
    }
  });
}
