// A worker that throws or exits fails only the frame it held and is replaced; the pool
// goes on serving. A worker that cannot start is not respawned in a loop.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { InferencePool } from '../../src/inference/pool.js';
import { loadModel } from '../../src/pipeline/model.js';
import { PerceptError } from '../../src/errors.js';
import { image, YOLOX_NANO } from '../helpers/paths.js';
import type { Frame } from '../../src/types.js';
import { at } from '../helpers/at.js';

const model = await loadModel({ name: 'yolox-nano', path: YOLOX_NANO });
const dog = fs.readFileSync(image('dog.jpg'));
let seq = 0;
const frame = (): Frame => ({ source: 't', seq: ++seq, capturedAt: Date.now(), width: 0, height: 0, format: 'jpeg', data: Buffer.from(dog) });

test('a crashing worker fails only its frame and is replaced', async () => {
  const pool = await InferencePool.start({ manifest: model.manifest, modelPath: model.path, workers: 2, threads: 1, providers: ['cpu'], faultInjection: true });
  try {
    const restarts: number[] = [];
    pool.on('restart', (i: number) => restarts.push(i));
    const results = await Promise.allSettled([
      pool.run(frame()),
      pool.run(frame(), { fault: 'throw' }),
      pool.run(frame()),
      pool.run(frame(), { fault: 'exit' }),
      pool.run(frame()),
    ]);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(failed.length, 2, 'exactly the two faulty frames fail');
    for (const f of failed) {
      assert.ok(PerceptError.is(f.reason, 'ERR_WORKER_CRASHED'), String(f.reason));
      assert.match(f.reason.message, /skipped and the worker replaced/);
    }
    for (const r of results.filter((x): x is PromiseFulfilledResult<Awaited<ReturnType<typeof pool.run>>> => x.status === 'fulfilled')) {
      assert.deepEqual(r.value.detections.map((d) => d.label).sort(), ['bicycle', 'car', 'dog']);
    }
    // A worker holds two jobs; when it dies, its other job is retried elsewhere, so a faulty
    // frame may take down a second worker before it is the one that fails.
    assert.ok(restarts.length >= 2 && restarts.length <= 4, `restarts ${restarts.length}`);
    // The replacements serve new frames.
    const after = await Promise.all([pool.run(frame()), pool.run(frame()), pool.run(frame())]);
    assert.equal(after.length, 3);
    assert.equal(pool.stats().restarts, restarts.length);
    // Every replacement becomes ready.
    const deadline = Date.now() + 15_000;
    while (pool.stats().ready < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(pool.stats().ready, 2);
  } finally {
    await pool.close();
  }
});

test('a worker that fails while starting rejects start() with a typed error and is not respawned', async () => {
  const manifest = { ...model.manifest, input: { ...model.manifest.input, name: 'not-the-input' } };
  const t0 = Date.now();
  await assert.rejects(
    InferencePool.start({ manifest, modelPath: model.path, workers: 2, threads: 1, providers: ['cpu'] }),
    (e: unknown) => PerceptError.is(e, 'ERR_MANIFEST_MISMATCH') && /images/.test((e as Error).message),
  );
  assert.ok(Date.now() - t0 < 20_000);
});

test('an unavailable execution provider falls back to CPU, explicitly', async () => {
  const pool = await InferencePool.start({ manifest: model.manifest, modelPath: model.path, workers: 1, threads: 1, providers: ['openvino', 'cpu'] });
  try {
    const s = pool.stats();
    assert.equal(s.provider, 'cpu');
    assert.equal(s.fallbacks.length, 1);
    assert.match(at(s.fallbacks, 0), /^openvino: /);
    const r = await pool.run(frame());
    assert.equal(r.detections.length, 3);
  } finally {
    await pool.close();
  }
});
