// Camera faults through the native addon: an unplug is ERR_CAMERA_GONE and an I/O error is
// ERR_CAMERA_IO, each after every descriptor and mapping was released; a stalled camera
// still closes cleanly; an unplugged camera can be opened again once it is back.
import test from 'node:test';
import assert from 'node:assert/strict';
import { runFake } from './v4l2-harness.js';
import { at } from '../helpers/at.js';

const open = { format: 'yuyv', width: 640, height: 480, fps: 30 };

test('an unplugged camera is ERR_CAMERA_GONE and its descriptors and mappings are released', async () => {
  const r = await runFake('stream', { open, count: 100 }, { FAKE_V4L2_UNPLUG_AFTER: '5' });
  assert.equal(r.frames.length, 5);
  assert.equal(r.error?.code, 'ERR_CAMERA_GONE');
  assert.equal(r.error?.errnoName, 'ENODEV');
  assert.equal(r.error?.syscall, 'VIDIOC_DQBUF');
  assert.match(r.error.message, /unplugged/);
  assert.equal(r.stats.state, 'closed', 'closed before the error callback ran');
  // while streaming: the device's descriptor, its 4 buffers' memory, 4 mappings
  assert.deepEqual([r.during?.cameraFds, r.during?.cameraMaps], [5, 4]);
  assert.deepEqual([r.after.cameraFds, r.after.cameraMaps], [0, 0]);
  assert.equal(r.after.fds, r.before.fds);
});

test('EIO on DQBUF is ERR_CAMERA_IO, with everything released', async () => {
  const r = await runFake('stream', { open, count: 100 }, { FAKE_V4L2_EIO_AFTER: '3' });
  assert.equal(r.frames.length, 3);
  assert.equal(r.error?.code, 'ERR_CAMERA_IO');
  assert.equal(r.error?.errnoName, 'EIO');
  assert.deepEqual([r.after.cameraFds, r.after.cameraMaps, r.after.fds], [0, 0, r.before.fds]);
});

test('a stalled camera delivers nothing more, reports no error, and close() releases it', async () => {
  const r = await runFake('stream', { open, count: 100, timeoutMs: 800 }, { FAKE_V4L2_STALL_AFTER: '4' });
  assert.equal(r.frames.length, 4);
  assert.equal(r.error, null);
  assert.equal(r.stats.state, 'streaming');
  assert.equal(r.statsAfterClose.state, 'closed');
  assert.deepEqual([r.after.cameraFds, r.after.cameraMaps, r.after.fds], [0, 0, r.before.fds]);
});

test('while unplugged the camera is ERR_CAMERA_NOT_FOUND; once back it streams again', async () => {
  const r = await runFake<{ results: { error: { code: string } | null; openError: { code: string } | null; frames: unknown[] }[] }>(
    'reopen',
    { open, count: 3, waitMs: 700 },
    { FAKE_V4L2_UNPLUG_AFTER: '3', FAKE_V4L2_GONE_MS: '500' },
  );
  const [first, whileGone, afterReturn] = [at(r.results, 0), at(r.results, 1), at(r.results, 2)];
  assert.equal(first.error?.code, 'ERR_CAMERA_GONE');
  assert.equal(whileGone.openError?.code, 'ERR_CAMERA_NOT_FOUND');
  assert.equal(afterReturn.openError, null);
  assert.equal(afterReturn.frames.length, 3);
});

test('a device that reports POLLERR with no frame to dequeue is ERR_CAMERA_GONE (poll), with everything released', async () => {
  // libuv stops polling a descriptor that reports POLLERR: without this error the camera
  // would wait forever for frames that cannot come.
  const r = await runFake('stream', { open, count: 100 }, { FAKE_V4L2_POLLERR_AFTER: '4' });
  assert.equal(r.frames.length, 4);
  assert.equal(r.error?.code, 'ERR_CAMERA_GONE');
  assert.equal(r.error?.syscall, 'poll');
  assert.match(r.error.message, /POLLERR/);
  assert.equal(r.stats.state, 'closed', 'closed before the error callback ran');
  assert.deepEqual([r.after.cameraFds, r.after.cameraMaps, r.after.fds], [0, 0, r.before.fds]);
});
