// Motion masks hide motion: a polygon over the motorcycle's path silences it, a polygon
// elsewhere does not; masks are normalised polygons, judged by each motion pixel's centre.
import test from 'node:test';
import assert from 'node:assert/strict';
import { MotionGate, gateOptions } from '../../src/events/gate.js';
import { rasterise, type Polygon } from '../../src/events/motion.js';
import { parseConfig } from '../../src/config/load.js';
import { frameOf, sceneJpeg } from '../helpers/motion-scenes.js';

async function motionFrames(masks: Polygon[]): Promise<number> {
  const cfg = parseConfig({ sources: [{ id: 'cam', kind: 'synthetic', motionMasks: masks, motion: { idleFps: 0 } }] });
  const gate = new MotionGate(gateOptions(cfg, cfg.sources[0]!));
  let seq = 0;
  let moving = 0;
  for (let i = 0; i < 5; i++) await gate.admit(frameOf(await sceneJpeg({ noise: 6, seed: i }), ++seq), false);
  for (let i = 0; i < 12; i++) {
    const v = await gate.admit(frameOf(await sceneJpeg({ noise: 6, seed: 100 + i, bikeX: 100 + i * 40 }), ++seq), false);
    if (v.report?.motion) moving++;
  }
  return moving;
}

// The motorcycle (400x258 px) rides at y 300..558 of 720, x 100..940 of 1280.
const OVER_PATH: Polygon = [
  [0, 0.35],
  [1, 0.35],
  [1, 0.85],
  [0, 0.85],
];
const ELSEWHERE: Polygon = [
  [0, 0],
  [1, 0],
  [1, 0.2],
  [0, 0.2],
];

test('a mask over the path hides the motion; a mask elsewhere leaves it', { timeout: 120_000 }, async () => {
  assert.equal(await motionFrames([OVER_PATH]), 0);
  assert.equal(await motionFrames([ELSEWHERE]), 12);
  assert.equal(await motionFrames([]), 12);
});

test('a mask covers the grid pixels whose centres it contains', () => {
  const tri: Polygon = [
    [0, 0],
    [1, 0],
    [0, 1],
  ];
  const m = rasterise([tri], 4, 4)!;
  assert.deepEqual([...m], [1, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(rasterise([], 4, 4), null);
});
