// Frame memory comes back: a frame's ArrayBuffer handed back with recycle() is where a later
// frame is written (the camera allocates nothing new per frame once its buffers circulate),
// and what is written there is still each frame exactly. A buffer too small for a frame, or
// anything but an ArrayBuffer, is refused without harm.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tempDir } from '../helpers/paths.js';
import { frameFiles, makeFrames, runFake } from './v4l2-harness.js';
import { at } from '../helpers/at.js';

const OPEN = { format: 'mjpeg', width: 1280, height: 720, fps: 30 };

const frames = await makeFrames();
const files = frameFiles(frames);

test('MJPEG frames written into recycled memory are the JPEG files, and every frame after the first reuses it', async () => {
  const saveDir = tempDir();
  const r = await runFake('stream', { open: OPEN, count: 12, saveDir, recycle: 'yes' }, { FAKE_V4L2_FRAMES: frames });
  assert.equal(r.error, null);
  assert.equal(r.frames.length, 12);
  for (const f of r.frames)
    assert.ok(fs.readFileSync(f.file!).equals(at(files, f.sequence % files.length)), `frame ${f.sequence} is photo ${f.sequence % files.length}`);
  // The first frame takes new memory; each later one the memory the one before handed back
  // (every photo fits: new memory is a quarter larger than the frame it was made for, and the
  // photos differ by less).
  assert.equal(r.stats.reused, r.stats.delivered - 1);

  const kept = await runFake('stream', { open: OPEN, count: 6 }, { FAKE_V4L2_FRAMES: frames });
  assert.equal(kept.stats.reused, 0, 'memory nobody hands back is never written again');
});

test('a buffer too small for a frame, or a value that is no ArrayBuffer, is refused without harm', async () => {
  const saveDir = tempDir();
  const small = await runFake('stream', { open: OPEN, count: 5, saveDir, recycle: 'small' }, { FAKE_V4L2_FRAMES: frames });
  assert.equal(small.error, null);
  assert.equal(small.stats.reused, 0);
  for (const f of small.frames) assert.ok(fs.readFileSync(f.file!).equals(at(files, f.sequence % files.length)));

  const bad = await runFake('stream', { open: OPEN, count: 3, recycle: 'bad' }, { FAKE_V4L2_FRAMES: frames });
  assert.equal(bad.error, null);
  assert.equal(bad.frames.length, 3, 'the stream goes on');
  assert.equal(bad.recycleErrors.length, 3);
  assert.match(at(bad.recycleErrors, 0), /TypeError: Expected an ArrayBuffer/);
});
