// /metrics is valid Prometheus text (checked by a strict parser), names the pipeline's families
// the dashboards expect, and its counters and stage histograms move while frames flow. The
// hub's families: test/hub/hub-metrics.test.ts.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startPreview } from '../../src/web/index.js';
import { get, memoryLogger, sleep, startPipeline, statusGetter } from './helpers.js';
import { parsePrometheus, valueOf } from './prom-parse.js';
import { at } from '../helpers/at.js';

test('/metrics parses as Prometheus text and its counters move while frames flow', { timeout: 30_000 }, async () => {
  const { logger } = memoryLogger('info');
  const pipeline = await startPipeline();
  const preview = await startPreview({ host: '127.0.0.1', port: 0, maxFps: 10, logger, pipeline, status: statusGetter(() => pipeline) });
  try {
    await sleep(800);
    preview.observePublish(0.004);
    const r1 = await get(preview.port, '/metrics');
    assert.equal(r1.status, 200);
    assert.match(r1.headers['content-type'] ?? '', /^text\/plain; version=0\.0\.4/);
    const a = parsePrometheus(r1.body);
    const types: Record<string, string> = {
      percept_frames_captured_total: 'counter',
      percept_frames_dropped_total: 'counter',
      percept_frames_inferred_total: 'counter',
      percept_stage_seconds: 'histogram',
      percept_worker_restarts_total: 'counter',
      percept_inference_jobs_total: 'counter',
      percept_model_info: 'gauge',
    };
    for (const [name, type] of Object.entries(types)) assert.equal(a.get(name)?.type, type, `${name} is a ${type}`);
    for (const reason of ['latest_frame_wins', 'corrupt', 'failed'])
      assert.equal(valueOf(a, 'percept_frames_dropped_total', { reason }), 0, `dropped{${reason}}`);
    const info = a.get('percept_model_info')!.samples;
    assert.equal(info.length, 1);
    assert.equal(at(info, 0).value, 1);
    assert.equal(at(info, 0).labels.model, 'yolox-nano');
    assert.equal(at(info, 0).labels.provider, 'cpu');
    assert.match(at(info, 0).labels.sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.ok(at(info, 0).labels.version);
    assert.equal(valueOf(a, 'percept_stage_seconds_count', { stage: 'publish' }), 1);

    await sleep(1200);
    const b = parsePrometheus((await get(preview.port, '/metrics')).body);
    const moved = (name: string, labels: Record<string, string> = {}) => {
      const before = valueOf(a, name, labels) ?? 0;
      const after = valueOf(b, name, labels) ?? 0;
      assert.ok(after > before, `${name}${JSON.stringify(labels)} moved: ${before} -> ${after}`);
      return after;
    };
    moved('percept_frames_captured_total');
    const inferred = moved('percept_frames_inferred_total');
    // The pool counts its jobs in the same registry: every inferred frame was a completed job.
    assert.ok(moved('percept_inference_jobs_total', { result: 'completed' }) >= inferred);
    // A 10 fps source for ~2 s.
    assert.ok(inferred >= 10 && inferred <= 25, `inferred ${inferred}`);
    for (const stage of ['capture', 'queue', 'preprocess', 'inference', 'decode']) {
      const count = moved('percept_stage_seconds_count', { stage });
      assert.ok(count >= inferred - 2, `${stage} observed per result (${count} of ${inferred})`);
    }
    const inferenceSum = valueOf(b, 'percept_stage_seconds_sum', { stage: 'inference' })!;
    const mean = inferenceSum / valueOf(b, 'percept_stage_seconds_count', { stage: 'inference' })!;
    assert.ok(mean > 0.001 && mean < 1, `mean inference ${mean} s is plausible`);

    const head = await get(preview.port, '/metrics', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  } finally {
    await preview.close();
    await pipeline.stop();
  }
});

test('the test parser itself rejects malformed exposition', () => {
  const ok = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 2\n';
  assert.equal(valueOf(parsePrometheus(ok), 'a_total', { x: '1' }), 2);
  const bad = [
    'a_total 1\n', // no family
    '# TYPE a_total counter\na_total{x="1} 2\n', // unterminated value
    '# TYPE a_total counter\na_total{x="\\q"} 2\n', // bad escape
    '# TYPE a_total counter\na_total 1\na_total 2\n', // duplicate series
    '# TYPE a_total counter\na_total -1\n', // negative counter
    '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', // not cumulative
    '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', // no +Inf
    '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n', // scattered family
    '# TYPE a gauge\na one\n', // bad value
    '# TYPE a gauge\na 1', // no final newline
  ];
  for (const text of bad) assert.throws(() => parsePrometheus(text), Error, JSON.stringify(text));
});
