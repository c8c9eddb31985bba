// A still scene runs almost no inference: with the gate on, a camera looking at an unchanging
// scene (sensor noise and JPEG artefacts included) sends only keyframes to the model.
import test from 'node:test';
import assert from 'node:assert/strict';
import { MotionGate, gateOptions } from '../../src/events/gate.js';
import { parseConfig } from '../../src/config/load.js';
import { frameOf, sceneJpeg } from '../helpers/motion-scenes.js';

test('a still, noisy scene at 15 fps for 12 s infers only its keyframes, one per 5 s', { timeout: 120_000 }, async () => {
  const cfg = parseConfig({ sources: [{ id: 'cam', kind: 'webcam', uri: '/dev/video0' }] });
  const gate = new MotionGate(gateOptions(cfg, cfg.sources[0]!));
  assert.equal(gate.enabled, true, 'auto turns the gate on for a webcam');
  // Different noise in every frame, as a sensor gives; a few encodings, cycled.
  const jpegs = await Promise.all([1, 2, 3, 4, 5, 6].map((seed) => sceneJpeg({ noise: 8, seed })));
  const admitted: Array<{ seq: number; reason: string }> = [];
  for (let seq = 1; seq <= 12 * 15; seq++) {
    const v = await gate.admit(frameOf(jpegs[seq % jpegs.length]!, seq), false);
    if (v.infer) admitted.push({ seq, reason: v.reason });
  }
  // Frame 1 at 67 ms, then every 5 s of capture time: frames 1, 76, 151.
  assert.deepEqual(admitted, [
    { seq: 1, reason: 'keyframe' },
    { seq: 76, reason: 'keyframe' },
    { seq: 151, reason: 'keyframe' },
  ]);
});

test('a live track keeps every frame going to the model, still or not', { timeout: 60_000 }, async () => {
  const cfg = parseConfig({ sources: [{ id: 'cam', kind: 'webcam', uri: '/dev/video0' }] });
  const gate = new MotionGate(gateOptions(cfg, cfg.sources[0]!));
  const jpeg = await sceneJpeg({ noise: 8 });
  const verdicts = [];
  for (let seq = 1; seq <= 10; seq++) verdicts.push(await gate.admit(frameOf(jpeg, seq), seq > 5));
  assert.deepEqual(
    verdicts.map((v) => v.reason),
    ['keyframe', 'still', 'still', 'still', 'still', 'track', 'track', 'track', 'track', 'track'],
  );
});

test('while still, about motion.idleFps frames a second are read; new motion is caught within one idle interval', { timeout: 60_000 }, async () => {
  const cfg = parseConfig({ sources: [{ id: 'cam', kind: 'webcam', uri: '/dev/video0' }] });
  const gate = new MotionGate(gateOptions(cfg, cfg.sources[0]!));
  const still = await sceneJpeg({ noise: 8 });
  let read = 0;
  let seq = 0;
  // 2 s of a still scene at 15 fps: 5 frames a second judged (the first is the keyframe).
  for (let i = 0; i < 30; i++) if ((await gate.admit(frameOf(still, ++seq), false)).report) read++;
  assert.ok(read >= 9 && read <= 11, `${read} of 30 frames read`);
  // The motorcycle appears: inferred from a frame at most 200 ms (3 frames) later, then every frame.
  const verdicts = [];
  for (let i = 0; i < 8; i++) verdicts.push(await gate.admit(frameOf(await sceneJpeg({ noise: 8, seed: i + 2, bikeX: 200 + i * 30 }), ++seq), false));
  const first = verdicts.findIndex((v) => v.infer);
  assert.ok(first >= 0 && first <= 2, `first inferred moving frame: ${first}`);
  assert.ok(
    verdicts.slice(first).every((v) => v.infer && v.reason === 'motion'),
    JSON.stringify(verdicts.map((v) => v.reason)),
  );
});
