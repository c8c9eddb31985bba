// The preview listens to the pipeline's 'frame' event (which makes the pipeline copy every
// frame) only while a stream client is connected, and moves its listeners when the pipeline
// is replaced.
import test from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startPreview } from '../../src/web/index.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { memoryLogger, startPipeline, statusGetter, streamFor, waitFor } from './helpers.js';

/** Opens a stream and returns once its first bytes arrived, with a way to hang up. */
function openStream(port: number, path: string): Promise<{ close: () => void; received: () => number }> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    const req = http.get({ host: '127.0.0.1', port, path }, (res) => {
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (bytes === c.length) resolve({ close: () => req.destroy(), received: () => bytes });
      });
    });
    req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
  });
}

test("'frame' is listened to only while a stream client is connected", { timeout: 30_000 }, async () => {
  const { logger } = memoryLogger('info');
  let pipeline: Pipeline = await startPipeline();
  let second: Pipeline | null = null;
  const preview = await startPreview({ host: '127.0.0.1', port: 0, maxFps: 10, logger, pipeline, status: statusGetter(() => pipeline) });
  try {
    assert.equal(pipeline.listenerCount('frame'), 0, 'no client, no frame listener');
    assert.equal(pipeline.listenerCount('result'), 1, 'results are always followed (metrics, health)');

    const mjpeg = await openStream(preview.port, '/stream');
    assert.equal(pipeline.listenerCount('frame'), 1, 'one listener with a client');
    const sse = await openStream(preview.port, '/events');
    assert.equal(pipeline.listenerCount('frame'), 1, 'still one listener with two clients');
    await waitFor(() => mjpeg.received() > 20_000, 10_000, 'MJPEG bytes');
    mjpeg.close();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(pipeline.listenerCount('frame'), 1, 'the SSE client still watches');
    sse.close();
    await waitFor(() => pipeline.listenerCount('frame') === 0, 2_000, 'the listener to go');

    // A client that hangs up after a moment leaves nothing behind.
    await streamFor(preview.port, '/stream', 300);
    await waitFor(() => pipeline.listenerCount('frame') === 0, 2_000, 'the listener to go after a short client');

    // The twin reconfigures: a new pipeline replaces the old one under an open page.
    const page = await openStream(preview.port, '/events');
    second = await startPipeline();
    const old = pipeline;
    preview.setPipeline(second);
    pipeline = second;
    assert.equal(old.listenerCount('frame'), 0, 'the old pipeline is let go');
    assert.equal(old.listenerCount('result'), 0);
    assert.equal(second.listenerCount('frame'), 1, 'the new one is tapped for the open page');
    assert.equal(second.listenerCount('result'), 1);
    await old.stop();
    page.close();
    await waitFor(() => second!.listenerCount('frame') === 0, 2_000, 'the listener to go from the new pipeline');
    await preview.close();
    assert.equal(second.listenerCount('result'), 0, 'close lets go of results too');
  } finally {
    await preview.close();
    await pipeline.stop();
    await second?.stop();
  }
});
