// The motion gate in the pipeline: a still scene from a 15 fps source sends only keyframes to
// the model; the frames it skips are counted (status, percept_frames_skipped_total) and do not
// count toward --frames. Real YOLOX-Nano on a real photo.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { YOLOX_NANO, tempDir } from '../helpers/paths.js';
import { sceneJpeg } from '../helpers/motion-scenes.js';

async function stillPhoto(): Promise<string> {
  const file = path.join(tempDir(), 'still.jpg');
  fs.writeFileSync(file, await sceneJpeg({ noise: 4 }));
  return file;
}

test('a still photo at 15 fps with the gate on infers only keyframes and counts the rest as skipped', { timeout: 120_000 }, async () => {
  const uri = await stillPhoto();
  const cfg = parseConfig({
    sources: [{ id: 'still', kind: 'image', uri, loop: true, fps: 15 }],
    model: { name: 'yolox-nano', path: YOLOX_NANO },
    motion: { enabled: 'on', keyframeSeconds: 1 },
    workers: 1,
    threads: 1,
    output: 'none',
  });
  const p = new Pipeline(cfg, { logger: createLogger({ level: 'silent' }) });
  let results = 0;
  p.on('result', () => results++);
  await p.start();
  const skippedAt = async (n: number) => {
    while (p.status().frames.skipped < n) await new Promise((r) => setTimeout(r, 50));
    return p.status().frames.inferred;
  };
  let settled = 0;
  let later = 0;
  try {
    // The first keyframe finds the scene's objects; their new tracks keep frames inferred until
    // they are confirmed and have stood still for a second (Tracker.hasLive); then keyframes only.
    settled = await skippedAt(20);
    // 40 more skipped: about 3 s of capture at 15 fps, 3 or 4 keyframes.
    later = (await skippedAt(60)) - settled;
  } finally {
    await p.stop();
  }
  const s = p.status();
  assert.equal(s.frames.inferred, results);
  assert.ok(settled >= 1 && settled <= 30, `the first keyframe and about a second of its tracks settling: ${settled} inferred`);
  assert.ok(later >= 1 && later <= 5, `then keyframes only: ${later} inferred while 40 were skipped`);
  assert.equal(s.sources[0]!.skipped, s.frames.skipped);
  assert.equal(s.sources[0]!.motion, false);
  const metrics = await p.metrics.registry.metrics();
  assert.match(metrics, new RegExp(`percept_frames_skipped_total\\{reason="no_motion"\\} ${s.frames.skipped}\\b`));
});

test('skipped frames do not count toward --frames; with the gate off nothing is skipped', { timeout: 120_000 }, async () => {
  const uri = await stillPhoto();
  for (const enabled of ['on', 'off'] as const) {
    const cfg = parseConfig({
      sources: [{ id: 'still', kind: 'image', uri, loop: true, fps: 15 }],
      model: { name: 'yolox-nano', path: YOLOX_NANO },
      motion: { enabled, keyframeSeconds: 0.4 },
      // No detection starts a track (scores stay under 1): the gate alone decides.
      tracker: { highScore: 1 },
      frames: 3,
      workers: 1,
      threads: 1,
      output: 'none',
    });
    const p = new Pipeline(cfg, { logger: createLogger({ level: 'silent' }) });
    let results = 0;
    p.on('result', () => results++);
    const ended = new Promise<void>((resolve) => p.once('end', resolve));
    await p.start();
    await ended;
    const s = p.status();
    assert.equal(results, 3, `gate ${enabled}: three results, as --frames says`);
    if (enabled === 'on') assert.ok(s.frames.skipped >= 6, `gate on: frames between keyframes skipped (${s.frames.skipped})`);
    else assert.equal(s.frames.skipped, 0);
  }
});

test('motion settings apply live to the running gate: off to on, and back off', { timeout: 120_000 }, async () => {
  const uri = await stillPhoto();
  const input = {
    sources: [{ id: 'still', kind: 'image' as const, uri, loop: true, fps: 15 }],
    model: { name: 'yolox-nano', path: YOLOX_NANO },
    // No detection starts a track (scores stay under 1): the gate alone decides.
    tracker: { highScore: 1 },
    workers: 1,
    threads: 1,
    output: 'none',
  };
  const p = new Pipeline(parseConfig(input), { logger: createLogger({ level: 'silent' }) });
  const until = async (ok: () => boolean) => {
    while (!ok()) await new Promise((r) => setTimeout(r, 50));
  };
  await p.start();
  try {
    // auto: an image source is not gated.
    await until(() => p.status().frames.inferred >= 5);
    assert.equal(p.status().frames.skipped, 0);
    assert.equal(p.status().sources[0]!.motion, null);
    p.setMotion(parseConfig({ ...input, sources: [{ ...input.sources[0]!, motion: { enabled: 'on', keyframeSeconds: 60 } }] }));
    const inferred = p.status().frames.inferred;
    await until(() => p.status().frames.skipped >= 20);
    // At most the frame in flight and the first keyframe after the change.
    assert.ok(p.status().frames.inferred - inferred <= 3, `${p.status().frames.inferred - inferred} inferred after the gate came on`);
    p.setMotion(parseConfig({ ...input, motion: { enabled: 'off' } }));
    const skipped = p.status().frames.skipped;
    await until(() => p.status().frames.inferred >= inferred + 10);
    assert.equal(p.status().frames.skipped, skipped, 'nothing skipped once the gate is off again');
  } finally {
    await p.stop();
  }
});
