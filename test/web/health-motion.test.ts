// /healthz stays 200 while the motion gate keeps judging frames of a still scene, although the
// only results are keyframes far apart: a quiet scene is not a stuck pipeline.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { parseConfig } from '../../src/config/load.js';
import { YOLOX_NANO, image } from '../helpers/paths.js';
import { get, healthPreview, memoryLogger, waitFor } from './helpers.js';

test('/healthz is 200 for a still scene with the gate on, results only at keyframes', { timeout: 60_000 }, async () => {
  const { logger } = memoryLogger('info');
  const cfg = parseConfig({
    sources: [{ id: 'dog', kind: 'image', uri: image('dog.jpg'), loop: true, fps: 15 }],
    model: { name: 'yolox-nano', path: YOLOX_NANO },
    motion: { enabled: 'on', keyframeSeconds: 600 },
    // No detection starts a track (scores stay under 1): the gate alone decides what is inferred.
    tracker: { highScore: 1 },
    workers: 1,
    output: 'none',
  });
  const pipeline = new Pipeline(cfg, { logger });
  const preview = await healthPreview(pipeline, logger);
  try {
    await pipeline.start();
    await waitFor(() => pipeline.status().frames.inferred === 1, 15_000, 'the first keyframe');
    const firstAt = pipeline.status().lastResultAt!;
    // Well past the liveness window since the only result.
    await waitFor(() => Date.now() - firstAt > 3000, 10_000, 'three seconds');
    assert.equal(pipeline.status().frames.inferred, 1, 'no result since the first keyframe');
    const live = await get(preview.port, '/healthz');
    assert.equal(live.status, 200, live.body);
    assert.equal((JSON.parse(live.body) as { status: string }).status, 'ok');
  } finally {
    await preview.close();
    await pipeline.stop();
  }
});
