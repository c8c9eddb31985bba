// The native hand-off is bounded: while JavaScript holds a frame, newer frames replace each
// other in one pending slot and are counted as dropped; a prompt consumer loses nothing.
import test from 'node:test';
import assert from 'node:assert/strict';
import { runFake } from './v4l2-harness.js';
import { at } from '../helpers/at.js';

test('a slow consumer gets the newest frame and the drop counter rises', async () => {
  const r = await runFake('stream', { open: { format: 'nv12', width: 640, height: 480, fps: 30 }, count: 5, holdMs: 250 }, {});
  assert.equal(r.frames.length, 5);
  assert.ok(r.stats.dropped >= 10, `dropped ${r.stats.dropped} of ${r.stats.captured}`);
  const waiting = r.stats.captured - r.stats.delivered - r.stats.dropped;
  assert.ok(waiting === 0 || waiting === 1, `every captured frame was delivered, dropped, or is the one waiting (${waiting})`);
  // each frame handed over after a hold is a newer one, skipping the replaced ones
  const gaps = r.frames.slice(1).map((f, i) => f.sequence - at(r.frames, i).sequence);
  assert.ok(
    gaps.every((g) => g > 1),
    `sequence gaps ${gaps.join(',')}`,
  );
  assert.ok(at(r.frames, 4).dropped > at(r.frames, 1).dropped, 'the counter rises frame after frame');
});

test('a prompt consumer gets every captured frame, in order', async () => {
  const r = await runFake('stream', { open: { format: 'nv12', width: 640, height: 480, fps: 30 }, count: 15 }, {});
  assert.equal(r.stats.dropped, 0);
  assert.equal(r.stats.delivered, 15);
  assert.equal(r.stats.captured, 15);
  const seqs = r.frames.map((f) => f.sequence);
  assert.ok(
    seqs.every((s, i) => i === 0 || s > at(seqs, i - 1)),
    `in order: ${seqs.join(',')}`,
  );
});

test('done() hands over the waiting frame at once, even when the camera sends no more', async () => {
  // Three frames, then silence: frame 0 is held while 1 and 2 arrive; 2 replaces 1.
  const r = await runFake(
    'stream',
    { open: { format: 'nv12', width: 640, height: 480, fps: 30 }, count: 2, holdMs: 300, timeoutMs: 2000 },
    { FAKE_V4L2_STALL_AFTER: '3' },
  );
  // A loaded machine may leave a frame interval unserved: the fake then skips that sequence
  // number, as a sensor does, and the driver-drop count says by how much.
  assert.deepEqual(
    r.frames.map((f) => f.sequence),
    [0, 2 + r.stats.driverDropped],
  );
  assert.equal(r.stats.captured, 3);
  assert.equal(r.stats.dropped, 1);
});
