// YUYV and NV12 through the native addon: raw frames with their geometry (stride included),
// byte for byte the fake camera's generated pattern, for ordinary and odd, padded sizes.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tempDir } from '../helpers/paths.js';
import { runFake } from './v4l2-harness.js';
import { at } from '../helpers/at.js';

/** The fake's pattern (see fake-v4l2.c): luma (x + 2y + 3 seq), U 64 + seq, V 192 - seq. */
function expected(format: 'yuyv' | 'nv12', w: number, h: number, stride: number, seq: number): Buffer {
  const u = (64 + seq) & 255;
  const v = (192 - seq) & 255;
  const luma = (x: number, y: number) => (x + 2 * y + 3 * seq) & 255;
  if (format === 'yuyv') {
    const b = Buffer.alloc(stride * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        b[y * stride + 2 * x] = luma(x, y);
        b[y * stride + 2 * x + 1] = x & 1 ? v : u;
      }
    return b;
  }
  const b = Buffer.alloc(stride * h + stride * Math.ceil(h / 2));
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) b[y * stride + x] = luma(x, y);
  for (let y = 0; y < Math.ceil(h / 2); y++)
    for (let x = 0; x < w; x += 2) {
      b[stride * h + y * stride + x] = u;
      b[stride * h + y * stride + x + 1] = v;
    }
  return b;
}

async function check(format: 'yuyv' | 'nv12', w: number, h: number, stride: number, env: Record<string, string> = {}): Promise<void> {
  const dir = tempDir();
  const r = await runFake('stream', { open: { format, width: w, height: h, fps: 30 }, count: 4, saveDir: dir }, env);
  assert.equal(r.openError, null);
  assert.equal(r.info?.stride, stride);
  assert.equal(r.frames.length, 4);
  for (const f of r.frames) {
    assert.deepEqual([f.format, f.width, f.height, f.stride], [format, w, h, stride]);
    const want = expected(format, w, h, stride, f.sequence);
    const got = fs.readFileSync(f.file!);
    assert.equal(got.length, want.length, `${format} ${w}x${h} frame size`);
    assert.ok(got.equals(want), `${format} frame ${f.sequence} is the generated pattern`);
  }
}

test('YUYV frames at 1280x720 are raw 4:2:2 rows of 2560 bytes', () => check('yuyv', 1280, 720, 2560));

test('NV12 frames at 640x480 are a Y plane then an interleaved UV plane', () => check('nv12', 640, 480, 640));

test('odd sizes: 322x242 with rows padded to 128 bytes keep their stride', async () => {
  await check('yuyv', 322, 242, 768, { FAKE_V4L2_ODD: '1' });
  await check('nv12', 322, 242, 384, { FAKE_V4L2_ODD: '1' });
});

test('a size the camera does not offer is adjusted by the driver and reported as granted', async () => {
  const r = await runFake('stream', { open: { format: 'yuyv', width: 1000, height: 1000 }, count: 1 }, {});
  assert.deepEqual([r.info?.width, r.info?.height], [640, 480]);
  assert.deepEqual([at(r.frames, 0).width, at(r.frames, 0).height, at(r.frames, 0).size], [640, 480, 640 * 480 * 2]);
});

test('a format the camera does not offer is ERR_CAMERA_FORMAT and leaves nothing open', async () => {
  const r = await runFake('stream', { open: { format: 'mjpeg', width: 1280, height: 720 }, count: 1 }, {});
  assert.equal(r.openError?.code, 'ERR_CAMERA_FORMAT');
  assert.match(r.openError.message, /does not offer MJPG/);
  assert.equal(r.after.cameraFds, 0);
  assert.equal(r.after.fds, r.before.fds);
});
