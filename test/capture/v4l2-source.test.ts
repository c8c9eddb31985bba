// A webcam source on the native backend, against the fake camera: MJPEG passes through as
// JPEG at the size asked for, YUYV comes raw with packed rows, a slow pipeline makes the
// addon count drops, an unplugged camera (or one whose queue fails with POLLERR) is reopened
// with backoff and frames flow again, and a camera that never worked fails open at once with
// the reason.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ROOT } from '../helpers/paths.js';
import { frameFiles, makeFrames, runFakeScript } from './v4l2-harness.js';
import type { SourceRun } from './v4l2-source-child.js';

const CHILD = path.join(ROOT, 'dist', 'test', 'capture', 'v4l2-source-child.js');
const run = (options: unknown, env: Record<string, string> = {}, scenario = 'frames') => runFakeScript<SourceRun>(CHILD, scenario, options, env);

test('MJPEG at 1280x720 is preferred and passes through as the camera sent it', async () => {
  const dir = await makeFrames();
  const r = await run({ cfg: { width: 1280, height: 720, fps: 30 }, count: 6 }, { FAKE_V4L2_FRAMES: dir });
  assert.equal(r.openError, null);
  assert.equal(r.backend, 'native');
  assert.equal(r.frames.length, 6);
  const sizes = new Set(frameFiles(dir).map((b) => b.length));
  for (const f of r.frames) {
    assert.deepEqual([f.format, f.width, f.height], ['jpeg', 1280, 720]);
    assert.ok(sizes.has(f.size), `frame of ${f.size} bytes is one of the folder's JPEGs`);
  }
  assert.deepEqual(
    r.frames.map((f) => f.seq),
    [1, 2, 3, 4, 5, 6],
  );
});

test('without MJPEG the camera is read as YUYV, and padded rows reach the workers packed', async () => {
  const plain = await run({ cfg: {}, count: 3 });
  assert.equal(plain.openError, null);
  assert.deepEqual(
    plain.frames.map((f) => [f.format, f.width, f.height, f.size]),
    Array(3).fill(['yuyv', 1280, 720, 1280 * 720 * 2]),
  );
  // FAKE_V4L2_ODD: 322x242 with rows padded to 128 bytes (stride 768, not 644).
  const odd = await run({ cfg: {}, count: 3 }, { FAKE_V4L2_ODD: '1' });
  assert.equal(odd.openError, null);
  for (const f of odd.frames) assert.deepEqual([f.format, f.width, f.height, f.size], ['yuyv', 322, 242, 322 * 242 * 2]);
});

test("a pipeline slower than the camera gets the newest frame and the addon's drops are the source's", async () => {
  const r = await run({ cfg: { fps: 30 }, count: 5, holdMs: 200 });
  assert.equal(r.frames.length, 5);
  assert.ok(r.stats!.dropped >= 10, `dropped ${r.stats!.dropped} of ~30 frames captured while the consumer slept`);
  assert.ok(r.stats!.captured >= r.frames.length + r.stats!.dropped, JSON.stringify(r.stats));
});

test('an unplugged camera is reopened with backoff once it is back, and frames flow again', async () => {
  const r = await run({ cfg: { fps: 30 }, count: 20, backoffMs: [100, 400] }, { FAKE_V4L2_UNPLUG_AFTER: '8', FAKE_V4L2_GONE_MS: '500' });
  assert.equal(r.openError, null);
  assert.equal(r.frames.length, 20, 'all 20 frames arrived, across the unplug');
  assert.ok(r.stats!.restarts >= 1, JSON.stringify(r.stats));
  const gone = r.logs.find((l) => l.code === 'ERR_CAMERA_GONE');
  assert.ok(gone, `a log line with the typed error: ${JSON.stringify(r.logs)}`);
  assert.equal(gone.level, 40);
  // While it was gone, reopening found no device and backed off again.
  assert.ok(
    r.logs.some((l) => l.code === 'ERR_CAMERA_NOT_FOUND'),
    JSON.stringify(r.logs),
  );
  assert.ok(
    r.logs.some((l) => l.msg === 'camera reopened'),
    JSON.stringify(r.logs),
  );
});

test('a camera whose queue fails with POLLERR is reopened at once (typed ERR_CAMERA_GONE), not left to the stall timer', async () => {
  // The stall timer (60 s) is far longer than the run: only the POLLERR error can restart it.
  const r = await run({ cfg: { fps: 30 }, count: 12, stallMs: 60_000, backoffMs: [50, 200] }, { FAKE_V4L2_POLLERR_AFTER: '5' });
  assert.equal(r.openError, null);
  assert.equal(r.frames.length, 12, 'all 12 frames arrived, across two failures');
  assert.ok(r.stats!.restarts >= 2, JSON.stringify(r.stats));
  const gone = r.logs.find((l) => l.code === 'ERR_CAMERA_GONE');
  assert.ok(gone, `a log line with the typed error: ${JSON.stringify(r.logs)}`);
  assert.ok(!r.logs.some((l) => l.msg === 'source stalled; restarting it'), JSON.stringify(r.logs));
});

test('a camera that never delivers fails open at once with the reason', async () => {
  const missing = await run({ cfg: { uri: '/dev/video3' }, count: 1 });
  assert.equal(missing.openError?.code, 'ERR_SOURCE_UNREADABLE');
  assert.match(missing.openError.message, /\/dev\/video3.*ERR_CAMERA_NOT_FOUND/s);
  const silent = await run({ cfg: {}, count: 1, stallMs: 800 }, { FAKE_V4L2_STALL_AFTER: '0' });
  assert.equal(silent.openError?.code, 'ERR_SOURCE_UNREADABLE');
  assert.match(silent.openError.message, /no frame within 0\.8 s/);
  const broken = await run({ cfg: {}, count: 1 }, { FAKE_V4L2_EIO_AFTER: '0' });
  assert.equal(broken.openError?.code, 'ERR_SOURCE_UNREADABLE');
  assert.match(broken.openError.message, /ERR_CAMERA_IO/);
  assert.equal(broken.stats, null);
});

test('a camera that stalls after it worked is restarted, and frames flow again', async () => {
  const r = await run({ cfg: {}, count: 8, stallMs: 600, backoffMs: [50, 200] }, { FAKE_V4L2_STALL_AFTER: '5' });
  assert.equal(r.openError, null);
  assert.equal(r.frames.length, 8);
  assert.ok(r.stats!.restarts >= 1, JSON.stringify(r.stats));
  assert.ok(
    r.logs.some((l) => l.msg === 'source stalled; restarting it'),
    JSON.stringify(r.logs),
  );
});
