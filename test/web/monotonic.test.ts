// The twin swaps the pipeline: the new one counts in the same registry, so the exported
// counters continue the old pipeline's series while its own status counts from zero.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startPreview } from '../../src/web/index.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { get, memoryLogger, sleep, startPipeline, statusGetter } from './helpers.js';
import { parsePrometheus, valueOf } from './prom-parse.js';
import { at } from '../helpers/at.js';

test('counters stay monotonic across a pipeline replacement', { timeout: 30_000 }, async () => {
  const { logger } = memoryLogger('info');
  let pipeline: Pipeline = await startPipeline();
  const preview = await startPreview({ host: '127.0.0.1', port: 0, maxFps: 10, logger, pipeline, status: statusGetter(() => pipeline) });
  const scrape = async () => {
    const m = parsePrometheus((await get(preview.port, '/metrics')).body);
    return { inferred: valueOf(m, 'percept_frames_inferred_total')!, captured: valueOf(m, 'percept_frames_captured_total')! };
  };
  try {
    // Waits for the state it asserts: a loaded machine may run the 10 fps source slower.
    let a = await scrape();
    for (let i = 0; i < 40 && a.inferred < 5; i++) {
      await sleep(250);
      a = await scrape();
    }
    assert.ok(a.inferred >= 5, `first pipeline counted ${a.inferred}`);
    await pipeline.stop();
    const oldFinal = pipeline.status().frames.inferred;
    const oldCaptured = at(pipeline.status().sources, 0).captured;

    const next = await startPipeline(undefined, 1, undefined, pipeline.metrics);
    preview.setPipeline(next);
    pipeline = next;
    const b = await scrape();
    assert.ok(next.status().frames.inferred < oldFinal, 'the new pipeline counts from zero');
    assert.ok(b.inferred >= oldFinal, `inferred kept: ${b.inferred} >= ${oldFinal}`);
    assert.ok(b.captured >= oldCaptured, `captured kept: ${b.captured} >= ${oldCaptured}`);
    await sleep(800);
    const lo = oldFinal + next.status().frames.inferred;
    const c = await scrape();
    const hi = oldFinal + next.status().frames.inferred;
    assert.ok(c.inferred > b.inferred, 'and keeps rising');
    assert.ok(c.inferred >= lo && c.inferred <= hi, `exact: ${c.inferred} in [${lo}, ${hi}]`);
  } finally {
    await preview.close();
    await pipeline.stop();
  }
});
