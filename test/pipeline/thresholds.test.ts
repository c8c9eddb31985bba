// Thresholds belong to a source's model reference, not to the pool: sources that share a model
// file share one pool even when their thresholds differ, each frame is decoded with its own
// source's thresholds, and a live change of the default model's (the twin's) reaches only the
// sources that use the default model.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import type { InferenceResult } from '../../src/inference/pool.js';
import { YOLOX_NANO, image } from '../helpers/paths.js';
import { at } from '../helpers/at.js';

// motorcycle_left.png: motorcycle 0.89, person 0.40 (../shared/models/README.md)
const BIKE = image('motorcycle_left.png');

test('sources sharing a model share its pool and keep their own thresholds, live', { timeout: 60_000 }, async () => {
  const cfg = parseConfig({
    sources: [
      { id: 'default', kind: 'image', uri: BIKE, loop: true, fps: 10 },
      { id: 'strict', kind: 'image', uri: BIKE, loop: true, fps: 10, model: { name: 'yolox-nano', path: YOLOX_NANO, scoreThreshold: 0.6 } },
    ],
    model: { name: 'yolox-nano', path: YOLOX_NANO },
    workers: 1,
    threads: 1,
    output: 'none',
  });
  const p = new Pipeline(cfg, { logger: createLogger({ level: 'silent' }) });
  const results: InferenceResult[] = [];
  p.on('result', (r: InferenceResult) => results.push(r));
  /** The labels of the next result of `source` captured after `after` (ms since the epoch). */
  const next = async (source: string, after = Date.now()): Promise<string[]> => {
    for (;;) {
      const r = results.find((x) => x.source === source && x.capturedAt > after);
      if (r) return r.detections.map((d) => d.label).sort();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  await p.start();
  try {
    assert.equal(p.status().models.length, 1, 'one pool for one model file');
    assert.equal(at(p.status().models, 0).workers, 1);
    assert.deepEqual(await next('default'), ['motorcycle', 'person'], 'the manifest default, 0.3');
    assert.deepEqual(await next('strict'), ['motorcycle'], "the source's own 0.6");

    // The twin raises the default model's threshold over the motorcycle's 0.89.
    // Frames captured after the change are decoded with it; earlier ones may still be in the pool.
    p.setThresholds({ scoreThreshold: 0.95 });
    const changed = Date.now();
    assert.deepEqual(await next('default', changed), []);
    assert.deepEqual(await next('strict', changed), ['motorcycle'], 'a source with its own model keeps its thresholds');
  } finally {
    await p.stop();
  }
});
