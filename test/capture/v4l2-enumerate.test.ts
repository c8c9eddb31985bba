// Enumeration through the native addon against the fake camera: devices found by the addon
// itself (not Node's fs), with their formats, frame sizes, intervals and controls.
import test from 'node:test';
import assert from 'node:assert/strict';
import { makeFrames, runFake, type ErrorJson } from './v4l2-harness.js';
import type { NativeDeviceDescription, NativeDeviceInfo } from '../../src/capture/v4l2-binding.js';
import { at } from '../helpers/at.js';

interface ListResult {
  devices: (Omit<NativeDeviceInfo, 'error'> & { error: ErrorJson | null })[];
  described: (Omit<NativeDeviceDescription, 'error'> & { error: ErrorJson | null })[];
  before: { fds: number; cameraFds: number };
  after: { fds: number; cameraFds: number };
}

const fps = [30, 15, 5].map((d) => ({ numerator: 1, denominator: d }));

test('the addon lists every fake device with its capture capability', async () => {
  const r = await runFake<ListResult>('list', { paths: [] }, { FAKE_V4L2_DEVICES: '3' });
  assert.deepEqual(
    r.devices.map((d) => d.path),
    ['/dev/video0', '/dev/video1', '/dev/video2'],
  );
  for (const d of r.devices) {
    assert.equal(d.error, null);
    assert.equal(d.driver, 'fake-v4l2');
    assert.equal(d.capture, true);
  }
  assert.equal(at(r.devices, 2).card, 'Fake Camera 2');
  assert.deepEqual(r.after, r.before, 'listing leaves no descriptor open');
});

test("describe reports MJPEG at the photos' 1280x720, raw formats, intervals and controls", async () => {
  const frames = await makeFrames();
  const r = await runFake<ListResult>('list', { paths: ['/dev/video0'] }, { FAKE_V4L2_FRAMES: frames });
  const d = at(r.described, 0);
  assert.equal(d.error, null);
  assert.deepEqual(
    d.formats.map((f) => f.fourcc),
    ['MJPG', 'YUYV', 'NV12'],
  );
  const mjpeg = at(d.formats, 0);
  assert.equal(mjpeg.compressed, true);
  assert.deepEqual(mjpeg.sizes, [{ width: 1280, height: 720, intervals: fps, stepwise: false }]);
  assert.deepEqual(
    at(d.formats, 1).sizes.map((s) => [s.width, s.height]),
    [
      [640, 480],
      [1280, 720],
    ],
  );
  assert.deepEqual(at(at(d.formats, 2).sizes, 1).intervals, fps);

  const byKey = new Map(d.controls.map((c) => [c.key, c]));
  assert.deepEqual([...byKey.keys()], ['brightness', 'power_line_frequency', 'exposure_auto', 'exposure_absolute']);
  const b = byKey.get('brightness')!;
  assert.deepEqual([b.type, b.minimum, b.maximum, b.default, b.value], ['integer', -64, 64, 0, 0]);
  assert.deepEqual(byKey.get('power_line_frequency')!.menu, [
    { index: 0, name: 'Disabled' },
    { index: 1, name: '50 Hz' },
    { index: 2, name: '60 Hz' },
  ]);
  // UVC's exposure menu has holes (only manual and aperture priority): they are skipped.
  assert.deepEqual(
    byKey.get('exposure_auto')!.menu!.map((m) => m.index),
    [1, 3],
  );
  assert.equal(byKey.get('exposure_absolute')!.inactive, true);
});

test('without a frames folder only the raw formats are offered; a missing node is ERR_CAMERA_NOT_FOUND', async () => {
  const r = await runFake<ListResult>('list', { paths: ['/dev/video0', '/dev/video7'] }, { FAKE_V4L2_ODD: '1' });
  assert.deepEqual(
    at(r.described, 0).formats.map((f) => f.fourcc),
    ['YUYV', 'NV12'],
  );
  assert.deepEqual(
    at(at(r.described, 0).formats, 0).sizes.map((s) => [s.width, s.height]),
    [[322, 242]],
  );
  const missing = at(r.described, 1);
  assert.equal(missing.error?.code, 'ERR_CAMERA_NOT_FOUND');
  assert.equal(missing.error?.errnoName, 'ENOENT');
  assert.deepEqual(missing.formats, []);
});

test('with no device at all the list is empty', async () => {
  const r = await runFake<ListResult>('list', { paths: [] }, { FAKE_V4L2_DEVICES: '0' });
  assert.deepEqual(r.devices, []);
});
