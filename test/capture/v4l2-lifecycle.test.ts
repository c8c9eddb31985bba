// Every descriptor and mapping of a native camera is released: by close(), by close() during
// open(), and when the worker thread that owns a streaming camera is terminated.
import test from 'node:test';
import assert from 'node:assert/strict';
import { runFake } from './v4l2-harness.js';
import type { Resources } from './v4l2-child.js';

test('close() releases the descriptor, the buffers and their mappings', async () => {
  const r = await runFake('stream', { open: { format: 'yuyv', width: 1280, height: 720, fps: 30 }, count: 3 });
  assert.equal(r.frames.length, 3);
  assert.deepEqual([r.during?.cameraFds, r.during?.cameraMaps], [5, 4], 'a timerfd, 4 buffers, 4 mappings while streaming');
  assert.equal(r.statsAfterClose.state, 'closed');
  assert.deepEqual([r.after.cameraFds, r.after.cameraMaps], [0, 0]);
  assert.equal(r.after.fds, r.before.fds);
});

test('close() during open() makes open() reject ERR_CAMERA_CLOSED and releases what it acquired', async () => {
  const r = await runFake('stream', { open: { format: 'yuyv', width: 640, height: 480 }, count: 1, closeDuringOpenMs: 0, timeoutMs: 500 });
  assert.equal(r.openError?.code, 'ERR_CAMERA_CLOSED');
  assert.match(r.openError.message, /close\(\) was called while the camera was opening/);
  assert.equal(r.frames.length, 0);
  assert.deepEqual([r.after.cameraFds, r.after.cameraMaps, r.after.fds], [0, 0, r.before.fds]);
});

test('terminating the worker thread that streams releases its camera', async () => {
  const r = await runFake<{ frames: number; before: Resources; during: Resources; after: Resources }>('worker', {});
  assert.equal(r.frames, 3);
  assert.deepEqual([r.during.cameraFds, r.during.cameraMaps], [5, 4]);
  assert.deepEqual([r.after.cameraFds, r.after.cameraMaps, r.after.fds], [0, 0, r.before.fds]);
});
