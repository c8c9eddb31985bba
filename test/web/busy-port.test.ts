// A preview port that is already taken is a typed ERR_PREVIEW error naming the fix, so the
// agent can warn and run on without its preview.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startPreview } from '../../src/web/index.js';
import { PerceptError } from '../../src/errors.js';
import { memoryLogger, startPipeline, statusGetter } from './helpers.js';

test('a busy port throws ERR_PREVIEW and leaves the pipeline untouched', { timeout: 30_000 }, async () => {
  const { logger } = memoryLogger('info');
  const pipeline = await startPipeline();
  const status = statusGetter(() => pipeline);
  const first = await startPreview({ host: '127.0.0.1', port: 0, maxFps: 10, logger, pipeline, status });
  try {
    await assert.rejects(startPreview({ host: '127.0.0.1', port: first.port, maxFps: 10, logger, pipeline, status }), (e: unknown) => {
      assert.ok(PerceptError.is(e, 'ERR_PREVIEW'), String(e));
      assert.match(e.message, new RegExp(`port ${first.port} on 127\\.0\\.0\\.1 is already in use`));
      assert.match(e.message, /--preview-port/);
      return true;
    });
    assert.equal(pipeline.listenerCount('result'), 1, 'the failed server subscribed nothing');
    assert.equal(pipeline.listenerCount('frame'), 0);
  } finally {
    await first.close();
    await pipeline.stop();
  }
});
