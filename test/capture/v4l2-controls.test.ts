// Camera controls through the native addon: get and set an integer and a menu control; values
// the driver refuses are ERR_CAMERA_CONTROL with the driver's errno, and change nothing.
import test from 'node:test';
import assert from 'node:assert/strict';
import { runFake } from './v4l2-harness.js';
import { at } from '../helpers/at.js';

// V4L2_CID_* from linux/v4l2-controls.h
const BRIGHTNESS = 0x00980900;
const POWER_LINE_FREQUENCY = 0x00980918;
const EXPOSURE_AUTO = 0x009a0901;
const EXPOSURE_ABSOLUTE = 0x009a0902;

test('controls are read and set on a streaming camera, and refused values are typed errors', async () => {
  const r = await runFake('stream', {
    open: { format: 'yuyv', width: 640, height: 480, fps: 15 },
    count: 2,
    controls: [
      ['get', BRIGHTNESS],
      ['set', BRIGHTNESS, -20],
      ['set', POWER_LINE_FREQUENCY, 2],
      ['set', BRIGHTNESS, 65],
      ['set', POWER_LINE_FREQUENCY, 7],
      ['set', EXPOSURE_AUTO, 0],
      ['set', EXPOSURE_ABSOLUTE, 300],
      ['set', EXPOSURE_AUTO, 1],
      ['set', EXPOSURE_ABSOLUTE, 300],
      ['get', 0x00980999],
    ],
  });
  const c = r.controls;
  assert.deepEqual(c[0], { op: 'get', id: BRIGHTNESS, value: 0 });
  assert.deepEqual(c[1], { op: 'set', id: BRIGHTNESS, value: -20 });
  assert.deepEqual(c[2], { op: 'set', id: POWER_LINE_FREQUENCY, value: 2 });
  assert.deepEqual([at(c, 3).error?.code, at(c, 3).error?.errnoName], ['ERR_CAMERA_CONTROL', 'ERANGE'], 'brightness beyond 64');
  assert.deepEqual([at(c, 4).error?.code, at(c, 4).error?.errnoName], ['ERR_CAMERA_CONTROL', 'ERANGE'], 'no menu entry 7');
  assert.deepEqual([at(c, 5).error?.code, at(c, 5).error?.errnoName], ['ERR_CAMERA_CONTROL', 'EINVAL'], 'a hole in the menu');
  assert.deepEqual([at(c, 6).error?.code, at(c, 6).error?.errnoName], ['ERR_CAMERA_CONTROL', 'EACCES'], 'inactive while exposure is automatic');
  assert.deepEqual(c[7], { op: 'set', id: EXPOSURE_AUTO, value: 1 });
  assert.deepEqual(c[8], { op: 'set', id: EXPOSURE_ABSOLUTE, value: 300 });
  assert.deepEqual([at(c, 9).error?.code, at(c, 9).error?.errnoName], ['ERR_CAMERA_CONTROL', 'EINVAL'], 'an unknown control');
  assert.equal(r.frames.length, 2, 'setting controls does not disturb the stream');
});

test('control calls on a camera whose open failed are ERR_CAMERA_CLOSED', async () => {
  const r = await runFake('stream', { open: { format: 'mjpeg', width: 1280, height: 720 }, count: 1, controls: [['get', BRIGHTNESS]] });
  assert.equal(r.openError?.code, 'ERR_CAMERA_FORMAT');
  assert.equal(at(r.controls, 0).error?.code, 'ERR_CAMERA_CLOSED');
});
