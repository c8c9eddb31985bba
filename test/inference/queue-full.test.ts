// The pool is bounded by contract: past its capacity run() rejects with ERR_QUEUE_FULL at
// once instead of queueing without limit, and whenAvailable() says when there is room again.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { InferencePool } from '../../src/inference/pool.js';
import { loadModel } from '../../src/pipeline/model.js';
import { PerceptError } from '../../src/errors.js';
import { image, YOLOX_NANO } from '../helpers/paths.js';
import type { Frame } from '../../src/types.js';

const model = await loadModel({ name: 'yolox-nano', path: YOLOX_NANO });
const dog = fs.readFileSync(image('dog.jpg'));
let seq = 0;
const frame = (): Frame => ({ source: 't', seq: ++seq, capturedAt: Date.now(), width: 0, height: 0, format: 'jpeg', data: Buffer.from(dog) });

test('run() past the capacity rejects with ERR_QUEUE_FULL; the jobs it holds still complete', async () => {
  const pool = await InferencePool.start({ manifest: model.manifest, modelPath: model.path, workers: 1, threads: 1, providers: ['cpu'] });
  try {
    const held = Array.from({ length: pool.capacity }, () => pool.run(frame()));
    assert.equal(pool.inFlight, pool.capacity);
    await assert.rejects(pool.run(frame()), (e: unknown) => PerceptError.is(e, 'ERR_QUEUE_FULL') && /whenAvailable/.test((e as Error).message));
    assert.equal(pool.inFlight, pool.capacity, 'the refused frame took no place');
    await pool.whenAvailable();
    const next = await pool.run(frame());
    assert.equal(next.detections.length, 3);
    const done = await Promise.all(held);
    assert.equal(done.length, pool.capacity);
    assert.equal(pool.stats().failed, 0);
  } finally {
    await pool.close();
  }
});
