// The native addon against a real device: a USB camera, vivid or v4l2loopback, named by
// PERCEPT_V4L2_DEVICE=/dev/videoN (see native/v4l2/README.md). The checks hold for any camera:
// it is listed and described, 20 frames of its preferred format arrive whole, and close()
// releases every descriptor and mapping. Not part of `npm test` (no machine of CI's has a
// camera): run it with `npm run test:camera` where one exists.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import sharp from 'sharp';
import { tempDir } from '../helpers/paths.js';
import { runReal } from './v4l2-harness.js';
import type { NativeDeviceDescription, NativeDeviceInfo, NativePixelFormat } from '../../src/capture/v4l2-binding.js';
import { at } from '../helpers/at.js';

const DEVICE = process.env.PERCEPT_V4L2_DEVICE;
if (!DEVICE) throw new Error('name the device: PERCEPT_V4L2_DEVICE=/dev/videoN npm run test:camera (a camera, vivid or v4l2loopback)');
const FOURCCS: [string, NativePixelFormat][] = [
  ['MJPG', 'mjpeg'],
  ['YUYV', 'yuyv'],
  ['NV12', 'nv12'],
];

test('a real device is listed, described, streams 20 whole frames and is released by close()', async () => {
  const path = DEVICE;
  const listed = await runReal<{ devices: NativeDeviceInfo[]; described: NativeDeviceDescription[] }>('list', { paths: [path] });
  const dev = listed.devices.find((d) => d.path === path);
  assert.ok(dev, `${path} is listed`);
  assert.equal(dev.error, null, `${path} opens: ${JSON.stringify(dev.error)}`);
  assert.equal(dev.capture, true, `${path} is a streaming capture node`);
  const desc = at(listed.described, 0);
  const pick = FOURCCS.map(([fourcc, format]) => ({ format, f: desc.formats.find((x) => x.fourcc === fourcc) })).find((x) => x.f && x.f.sizes.length);
  assert.ok(pick, `${path} offers MJPG, YUYV or NV12: ${desc.formats.map((f) => f.fourcc).join(', ')}`);
  const size = at(pick.f!.sizes, 0);
  const iv = at(size.intervals, 0);

  const dir = tempDir();
  const open = { format: pick.format, width: size.width, height: size.height, ...(iv ? { fps: iv.denominator / iv.numerator } : {}) };
  const r = await runReal('stream', { path, open, count: 20, saveDir: dir, timeoutMs: 20_000 });
  assert.equal(r.openError, null, JSON.stringify(r.openError));
  assert.equal(r.error, null, JSON.stringify(r.error));
  assert.equal(r.frames.length, 20);
  for (const f of r.frames) {
    const data = fs.readFileSync(f.file!);
    if (f.format === 'mjpeg') {
      const meta = await sharp(data).metadata();
      assert.deepEqual([meta.width, meta.height], [f.width, f.height]);
    } else {
      const rows = f.format === 'yuyv' ? f.height : f.height + Math.ceil(f.height / 2);
      assert.ok(data.length >= f.stride * rows, `${f.format} frame of ${data.length} bytes holds ${rows} rows of ${f.stride}`);
    }
  }
  assert.equal(r.during?.cameraMaps, r.info?.buffers, 'one mapping per buffer while streaming');
  assert.deepEqual([r.after.cameraFds, r.after.cameraMaps, r.after.fds], [0, 0, r.before.fds]);
});
