// A sudden brightness change of the whole frame (a light switched on, an IR filter flipping)
// is recalibrated, not motion: the gate relearns the background and sends nothing to the model.
import test from 'node:test';
import assert from 'node:assert/strict';
import { MotionGate, gateOptions } from '../../src/events/gate.js';
import { parseConfig } from '../../src/config/load.js';
import { frameOf, sceneJpeg } from '../helpers/motion-scenes.js';

async function run(recalibrateFraction?: number) {
  const cfg = parseConfig({ sources: [{ id: 'cam', kind: 'rtsp', uri: 'rtsp://camera/stream', motion: { recalibrateFraction, idleFps: 0 } }] });
  const gate = new MotionGate(gateOptions(cfg, cfg.sources[0]!));
  const phases = [0, 70, -60, 0];
  const out: Array<{ seq: number; infer: boolean; motion: boolean; calibrating: boolean }> = [];
  let seq = 0;
  for (const brightness of phases) {
    const jpegs = await Promise.all([1, 2, 3].map((seed) => sceneJpeg({ noise: 6, seed, brightness })));
    for (let i = 0; i < 15; i++) {
      const v = await gate.admit(frameOf(jpegs[i % 3]!, ++seq), false);
      out.push({ seq, infer: v.infer, motion: v.report?.motion ?? false, calibrating: v.report?.calibrating ?? false });
    }
  }
  return out;
}

test('brightening and darkening the whole frame gives no motion and no extra inference', { timeout: 120_000 }, async () => {
  const out = await run();
  assert.deepEqual(
    out.filter((f) => f.motion).map((f) => f.seq),
    [],
    'no frame reports motion',
  );
  assert.deepEqual(
    out.filter((f) => f.infer).map((f) => f.seq),
    [1],
    'only the first keyframe is inferred',
  );
  // Each change of light starts a calibration, on the frame where it happens.
  assert.deepEqual(
    out.filter((f) => f.calibrating).map((f) => f.seq),
    [1, 16, 31, 46],
  );
});

test('without recalibration the same change of light would be motion (the control)', { timeout: 120_000 }, async () => {
  const out = await run(1);
  assert.ok(out.filter((f) => f.motion).length >= 10, `a lighting change counted as motion: ${out.filter((f) => f.motion).length} frames`);
});
