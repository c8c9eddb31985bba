// A model swap under running capture: the new model loads and runs a frame in a pool of its
// own, new frames go to it, frames already in the old pool finish there, and no frame of a
// lossless source is lost or reordered. A model that cannot load leaves the old one running.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { PerceptError } from '../../src/errors.js';
import type { InferenceResult } from '../../src/inference/pool.js';
import type { LoadedModel } from '../../src/pipeline/model.js';
import { ROOT, YOLOX_NANO, image, tempDir } from '../helpers/paths.js';

/** A copy of the YOLOX-Nano manifest under another name (so it is another pool), or a broken one. */
type Manifest = { name: string; input: { name: string } };
function manifest(name: string, edit: (m: Manifest) => void = () => undefined): string {
  const m = JSON.parse(fs.readFileSync(path.join(ROOT, 'models', 'yolox-nano.json'), 'utf8')) as Manifest;
  m.name = name;
  edit(m);
  const file = path.join(tempDir(), `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(m));
  return file;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a swapped model takes the next frames while frames in the old pool finish there; none is lost', { timeout: 120_000 }, async () => {
  const cfg = parseConfig({
    // A looping image without an fps is lossless: every frame is inferred, in order.
    sources: [{ id: 'bike', kind: 'image', uri: image('motorcycle_left.png'), loop: true }],
    model: { name: 'yolox-nano', path: YOLOX_NANO },
    workers: 1,
    threads: 1,
    output: 'none',
  });
  const p = new Pipeline(cfg, { logger: createLogger({ level: 'silent' }) });
  const seen: Array<{ seq: number; model: string; labels: string[] }> = [];
  p.on('result', (r: InferenceResult, m: LoadedModel) => seen.push({ seq: r.seq, model: m.manifest.name, labels: r.detections.map((d) => d.label) }));
  await p.start();
  try {
    await until(() => seen.length >= 3, 'three results of the first model');

    // A manifest that does not fit the model: refused, and the first model keeps running.
    const broken = manifest('yolox-broken', (m) => (m.input.name = 'input:0'));
    await assert.rejects(p.swapModel({ name: broken, path: YOLOX_NANO }), (e: unknown) => PerceptError.is(e) && e.code === 'ERR_MANIFEST_MISMATCH');
    const afterRefusal = seen.length;
    await until(() => seen.length >= afterRefusal + 3, 'results after the refused swap');
    assert.ok(seen.every((s) => s.model === 'yolox-nano'));

    await p.swapModel({ name: manifest('yolox-swapped'), path: YOLOX_NANO });
    await until(() => seen.filter((s) => s.model === 'yolox-swapped').length >= 3, 'three results of the new model');
    assert.deepEqual(
      p.status().models.map((m) => m.name),
      ['yolox-swapped'],
      'the old pool is closed once its frames are done',
    );
  } finally {
    await p.stop();
  }
  // Every frame of the lossless source, in order, each once.
  assert.deepEqual(
    seen.map((s) => s.seq),
    seen.map((_, i) => i + 1),
  );
  // One switch from the old model to the new one, never back.
  const switches = seen.filter((s, i) => i > 0 && s.model !== seen[i - 1]!.model).length;
  assert.equal(switches, 1);
  assert.equal(seen.at(-1)!.model, 'yolox-swapped');
  assert.ok(
    seen.every((s) => s.labels.includes('motorcycle')),
    'both models detect the motorcycle',
  );
});
