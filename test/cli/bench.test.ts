// `percept bench`: the JSON line outside checks read, its figures consistent with one
// another, one section on its own, and clear errors for bad inputs. Speed itself is the
// bench's business, not the tests'.
import test from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';
import { at } from '../helpers/at.js';
import { nearQuotient } from '../helpers/figures.js';

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(at(lines, -1)) as Record<string, unknown>;
}

function positive<K extends string>(o: Record<string, unknown>, keys: readonly K[]): Record<K, number> {
  for (const k of keys) assert.ok(typeof o[k] === 'number' && Number.isFinite(o[k]) && o[k] > 0, `${k} is a positive number, got ${String(o[k])}`);
  return o as Record<K, number>;
}

/** Equal to three significant figures (the JSON rounds to 0.001). */
function near(a: number, b: number, what: string): void {
  assert.ok(Math.abs(a - b) <= Math.max(1e-3, 2e-3 * Math.abs(b)), `${what}: ${a} vs ${b}`);
}

test('bench --json: every section, ending with one JSON line whose figures agree with each other', { timeout: 420_000 }, async () => {
  const r = await runCli(['bench', '--json', '--seconds', '0.5'], { timeoutMs: 400_000 });
  assert.equal(r.code, 0, r.stderr);
  const json = lastJson(r.stdout);
  // The motion gate changes what is inferred on the sliding clip, not the events it yields.
  assert.equal(json.motion_clip_same_events, true, `${String(json.motion_clip_events_off)} | ${String(json.motion_clip_events_on)}`);
  // With the gate on, a short window of a still scene may hold no keyframe: 0 is a right answer.
  for (const k of ['motion_static_inferred_on', 'motion_static_inference_ratio'])
    assert.ok(typeof json[k] === 'number' && json[k] >= 0, `${k} is a number, got ${String(json[k])}`);
  const o = positive(json, [
    'raw_fps_1t',
    'raw_fps_2t',
    'naive_fps',
    'pool_fps',
    'bound_fps',
    'p50_ms',
    'p99_ms',
    'single_thread_ms',
    'pool_vs_naive',
    'pool_vs_bound',
    'raw_p50_ms_1t',
    'raw_p99_ms_1t',
    'naive_p50_ms',
    'naive_p99_ms',
    'pool_full_p50_ms',
    'pool_full_p99_ms',
    'raw_scaling_2w',
    'pool_vs_scaling',
    'cores',
    'preview_fps_no_client',
    'preview_fps_with_client',
    'tpm_signs_per_s',
    'verify_msgs_per_s',
    'outbox_enqueue_per_s',
    'delivered_per_s',
    'bench_seconds',
    'motion_static_inferred_off',
    'motion_static_cpu_s_off',
    'motion_static_cpu_ratio',
    'motion_clip_inferred_off',
    'motion_clip_inferred_on',
    'p99_vs_frame_work',
    'raw_ms_1t',
    'pool_vs_bound_min_round',
    'pool_vs_bound_max_round',
    'pool_workers',
  ]);
  near(o.bound_fps, (o.cores * 1000) / o.single_thread_ms, 'bound_fps = cores x 1000 / single-thread ms');
  near(o.pool_vs_naive, o.pool_fps / o.naive_fps, 'pool/naive');
  near(o.pool_vs_bound, o.pool_fps / o.bound_fps, 'pool/bound');
  near(o.p99_vs_frame_work, o.p99_ms / o.single_thread_ms, 'p99/frame work');
  near(o.raw_ms_1t, 1000 / o.raw_fps_1t, 'raw ms and fps');
  nearQuotient(o.pool_vs_scaling, o.pool_vs_bound, o.raw_scaling_2w, 'pool/bound over the machine scaling');
  assert.ok(o.p99_ms >= o.p50_ms && o.raw_p99_ms_1t >= o.raw_p50_ms_1t && o.pool_full_p99_ms >= o.pool_full_p50_ms, 'p99 is at least p50');
  assert.ok(o.pool_vs_bound_min_round <= o.pool_vs_bound_max_round);
  assert.ok(Number.isInteger(o.pool_workers) && o.pool_workers >= 2, `pool_workers ${o.pool_workers}`);
  // The readable lines come before the JSON and say what was measured.
  assert.match(r.stdout, /== pipeline[\s\S]*pool\/naive [\d.]+x, pool\/bound [\d.]+[\s\S]*== outbox/);
  assert.match(r.stdout, /frames: \d+ \(9 photos as JPEG, 60 1280x720 test-stream frames\)/);
});

test('bench --section runs that section alone', { timeout: 60_000 }, async () => {
  const r = await runCli(['bench', '--section', 'attest', '--json', '--seconds', '0.5'], { timeoutMs: 55_000 });
  assert.equal(r.code, 0, r.stderr);
  const o = lastJson(r.stdout);
  positive(o, ['tpm_signs_per_s', 'verify_msgs_per_s', 'hash_parse_msgs_per_s', 'verify_vs_hash_parse']);
  for (const k of ['pool_fps', 'preview_fps_no_client', 'delivered_per_s']) assert.equal(k in o, false, `${k} comes from another section`);
  assert.doesNotMatch(r.stdout, /== pipeline/);
});

test('bench: an unknown section, a missing model or photo folder is a clear error', async () => {
  const unknown = await runCli(['bench', '--section', 'gpu']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown section 'gpu'; sections: pipeline, preview, attest, outbox/);
  const model = await runCli(['bench', '--section', 'pipeline', '--model-path', '/nonexistent/yolox.onnx']);
  assert.equal(model.code, 1);
  assert.match(model.stderr, /ERR_MODEL_NOT_FOUND.*\/nonexistent\/yolox\.onnx/);
  const images = await runCli(['bench', '--section', 'preview', '--images', '/nonexistent/photos']);
  assert.equal(images.code, 1);
  assert.match(images.stderr, /ERR_INPUT.*\/nonexistent\/photos cannot be read \(ENOENT\)/);
});
