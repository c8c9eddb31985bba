// /readyz waits for a loaded model and a first result; /healthz turns 503 with a reason once
// a (non-looping) source has ended and no result came within the liveness window.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { parseConfig } from '../../src/config/load.js';
import { YOLOX_NANO, image } from '../helpers/paths.js';
import { get, healthPreview, memoryLogger, waitFor } from './helpers.js';

type Health = { status: string; reason?: string; models?: Array<{ provider: string }> };

test('/healthz fails after the source stops; /readyz follows model and first result', { timeout: 30_000 }, async () => {
  const { logger } = memoryLogger('info');
  // One still image, not looped: one result, then the source ends.
  const cfg = parseConfig({
    sources: [{ id: 'dog', kind: 'image', uri: image('dog.jpg'), loop: false }],
    model: { name: 'yolox-nano', path: YOLOX_NANO },
    workers: 1,
    output: 'none',
  });
  const pipeline = new Pipeline(cfg, { logger });
  const preview = await healthPreview(pipeline, logger);
  try {
    const ready0 = await get(preview.port, '/readyz');
    assert.equal(ready0.status, 503, 'not ready before the model is loaded');
    assert.match((JSON.parse(ready0.body) as Health).reason ?? '', /no model/);
    const live0 = await get(preview.port, '/healthz');
    assert.equal(live0.status, 200, 'alive while starting (grace period)');
    assert.equal((JSON.parse(live0.body) as Health).status, 'starting');

    const ended = new Promise<void>((resolve) => pipeline.once('end', () => resolve()));
    await pipeline.start();
    await waitFor(async () => (await get(preview.port, '/readyz')).status === 200, 15_000, 'ready');
    const ready = JSON.parse((await get(preview.port, '/readyz')).body) as Health;
    assert.equal(ready.models?.[0]?.provider, 'cpu');
    const live = await get(preview.port, '/healthz');
    assert.equal(live.status, 200);
    assert.equal((JSON.parse(live.body) as Health).status, 'ok');

    await ended;
    const endedAt = Date.now();
    await waitFor(async () => (await get(preview.port, '/healthz')).status === 503, 5_000, 'unhealthy');
    const waited = Date.now() - endedAt;
    assert.ok(waited >= 1000, `unhealthy only after the liveness window (${waited} ms)`);
    const dead = await get(preview.port, '/healthz');
    assert.match(dead.headers['content-type'] ?? '', /application\/json/);
    const body = JSON.parse(dead.body) as Health;
    assert.equal(body.status, 'unhealthy');
    assert.match(body.reason ?? '', /no result for \d+\.\d s \(limit 1\.5 s\)/);
    // Readiness is about having started, not about liveness.
    assert.equal((await get(preview.port, '/readyz')).status, 200);
  } finally {
    await preview.close();
    await pipeline.stop();
  }
});
