// Camera controls of a native webcam source, against the fake camera: the config's controls
// are set at open and read back from the camera; a live change applies to the open camera;
// an unknown key or an out-of-range value is ERR_CAMERA_CONTROL and changes nothing.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ROOT } from '../helpers/paths.js';
import { runFakeScript } from './v4l2-harness.js';
import type { SourceRun } from './v4l2-source-child.js';
import { at } from '../helpers/at.js';

const CHILD = path.join(ROOT, 'dist', 'test', 'capture', 'v4l2-source-child.js');
const run = (options: unknown) => runFakeScript<SourceRun>(CHILD, 'controls', options);

test('controls from the config are set at open and read back; live ones apply to the open camera', async () => {
  const r = await run({
    cfg: { controls: { brightness: 10, power_line_frequency: 2 } },
    count: 2,
    set: [{ brightness: -5 }, { exposure_auto: 1, exposure_absolute: 300 }],
  });
  assert.equal(r.openError, null);
  assert.equal(r.controlError, null);
  const [atOpen, live, manual] = [at(r.controls, 0), at(r.controls, 1), at(r.controls, 2)];
  assert.deepEqual([atOpen.brightness, atOpen.power_line_frequency], [10, 2]);
  assert.deepEqual([live.brightness, live.power_line_frequency], [-5, 2]);
  // exposure_absolute is inactive until exposure_auto is manual: set in the order given.
  assert.deepEqual([manual.exposure_auto, manual.exposure_absolute], [1, 300]);
  const logged = r.logs.filter((l) => l.msg === 'camera controls set').map((l) => l.controls);
  assert.deepEqual(logged, [{ brightness: 10, power_line_frequency: 2 }, { brightness: -5 }, { exposure_auto: 1, exposure_absolute: 300 }]);
});

for (const [what, set, pattern] of [
  [
    'an unknown key',
    { brightness: 3, zoom_absolute: 2 },
    /has no control 'zoom_absolute' \(it has brightness, power_line_frequency, exposure_auto, exposure_absolute\)/,
  ],
  ['a value out of range', { brightness: 3, power_line_frequency: 7 }, /'power_line_frequency' takes an integer from 0 to 2, not 7/],
  ['a hole in a menu', { exposure_auto: 2 }, /'exposure_auto' takes one of 1 \(Manual Mode\), 3 \(Aperture Priority Mode\), not 2/],
] as const) {
  test(`${what} is ERR_CAMERA_CONTROL and no control changes`, async () => {
    const r = await run({ cfg: { controls: { brightness: 10 } }, count: 1, set: [set] });
    assert.equal(r.controlError?.code, 'ERR_CAMERA_CONTROL');
    assert.match(r.controlError.message, pattern);
    assert.match(r.controlError.message, /'percept cameras' lists/);
    assert.equal(at(r.controls, 1).brightness, 10, 'checked before any was set');
  });
}

test('a bad control in the config fails the open with ERR_CAMERA_CONTROL', async () => {
  const r = await run({ cfg: { controls: { brightness: 999 } }, count: 1 });
  assert.equal(r.openError?.code, 'ERR_CAMERA_CONTROL');
  assert.match(r.openError.message, /'brightness' takes an integer from -64 to 64, not 999/);
});
