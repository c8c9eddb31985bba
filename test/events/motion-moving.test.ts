// A moving object is motion, where it is: the motorcycle of motorcycle_left.png slides across
// coffee.png, and every frame of its way reports a region around it, from JPEG frames and from
// raw camera frames (rgb24, yuyv, nv12) sampled directly.
import test from 'node:test';
import assert from 'node:assert/strict';
import { MotionGate, gateOptions } from '../../src/events/gate.js';
import { parseConfig } from '../../src/config/load.js';
import { frameOf, rawOf, sceneJpeg, sceneRgb, W } from '../helpers/motion-scenes.js';
import type { Frame } from '../../src/types.js';

const BIKE_W = 400;

for (const format of ['jpeg', 'rgb24', 'yuyv', 'nv12'] as const) {
  test(`a motorcycle sliding across the scene is motion on every frame, boxed where it is (${format})`, { timeout: 120_000 }, async () => {
    const cfg = parseConfig({ sources: [{ id: 'cam', kind: 'demo', motion: { idleFps: 0 } }] });
    const gate = new MotionGate(gateOptions(cfg, cfg.sources[0]!));
    const frame = async (seq: number, bikeX: number | null): Promise<Frame> => {
      const o = { noise: 6, seed: seq, bikeX };
      return format === 'jpeg' ? frameOf(await sceneJpeg(o), seq) : frameOf(rawOf(await sceneRgb(o), format), seq, format);
    };
    let seq = 0;
    for (let i = 0; i < 10; i++) assert.equal((await gate.admit(await frame(++seq, null), false)).report?.motion, false);
    for (let i = 0; i < 20; i++) {
      const x = 60 + i * 35;
      const v = await gate.admit(await frame(++seq, x), false);
      assert.equal(v.infer, true, `frame ${seq} goes to the model`);
      assert.equal(v.reason, 'motion');
      const centre = (x + BIKE_W / 2) / W;
      assert.ok(
        v.report!.boxes.some((b) => b[0] <= centre && centre <= b[2] && b[1] < 0.6 && b[3] > 0.6),
        `a box around the motorcycle's centre ${centre.toFixed(2)}: ${JSON.stringify(v.report!.boxes)}`,
      );
    }
  });
}
