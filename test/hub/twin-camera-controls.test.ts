// Camera controls from the module twin: a desired change of only a webcam's `controls` is set
// on the open camera (read back from it) without rebuilding the pipeline; an unknown control
// is rejected and reported like any bad document, and the camera keeps streaming. Real
// emulator, real SDK, real agent process with the fake camera preloaded.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startTestHub } from '../helpers/emulator.js';
import { startAgent, until } from '../helpers/agent.js';
import { jsonLines } from '../helpers/cli.js';
import { YOLOX_NANO, tempDir } from '../helpers/paths.js';
import { FAKE_LIB, makeFrames } from '../capture/v4l2-harness.js';

type Config = { version: number | null; status: string; error: { code: string; message: string; version: number } | null };
type Reported = { percept?: { config?: Config } };

test('controls from the twin are set on the open camera; a bad one is rejected and reported', { timeout: 120_000 }, async () => {
  const hub = await startTestHub();
  const state = tempDir();
  const frames = await makeFrames();
  const cam = { id: 'cam', kind: 'webcam', uri: '/dev/video0' };
  const args = [
    'run',
    '--source',
    'cam=/dev/video0',
    '--model',
    'yolox-nano',
    '--model-path',
    YOLOX_NANO,
    '--workers',
    '1',
    '--connection-string',
    hub.connectionString,
    '--ca',
    path.join(hub.stateDir, 'ca.pem'),
    '--state-dir',
    state,
    '--no-preview',
    '--output',
    'none',
  ];
  const agent = startAgent(args, { stateDir: state, env: { LD_PRELOAD: FAKE_LIB, FAKE_V4L2_FRAMES: frames, PERCEPT_LOG_LEVEL: 'info' } });
  const config = () => (hub.hub.twin(hub.deviceId).reported as Reported).percept?.config;
  const settled = (version: number) =>
    until(`report of $version ${version}`, () => {
      const c = config();
      return c && (c.status === 'applied' ? c.version === version : c.error?.version === version) ? c : null;
    });
  const logs = () => jsonLines(agent.stderr());
  try {
    await hub.hub.waitForMessages(1, { deviceId: hub.deviceId }, 30_000);
    await until('initial report', () => config());
    assert.equal(logs().find((l) => l.msg === 'source open')?.backend, 'native');

    const ok = hub.hub.patchDesired(hub.deviceId, { sources: [{ ...cam, controls: { brightness: 20, power_line_frequency: 2 } }] });
    const applied = await settled((ok.desired as { $version: number }).$version);
    assert.equal(applied.status, 'applied', JSON.stringify(applied));
    const set = logs().filter((l) => l.msg === 'camera controls set');
    assert.deepEqual(
      set.map((l) => l.controls),
      [{ brightness: 20, power_line_frequency: 2 }],
      'read back from the camera',
    );
    assert.ok(!logs().some((l) => l.msg === 'configuration changed: rebuilding the pipeline'), 'no rebuild for controls');
    assert.equal(logs().filter((l) => l.msg === 'source open').length, 1, 'the camera was not reopened');

    const bad = hub.hub.patchDesired(hub.deviceId, { sources: [{ ...cam, controls: { brightness: 20, zoom_absolute: 3 } }] });
    const rejected = await settled((bad.desired as { $version: number }).$version);
    assert.equal(rejected.status, 'rejected');
    assert.equal(rejected.error?.code, 'ERR_CAMERA_CONTROL');
    assert.match(rejected.error.message, /has no control 'zoom_absolute'/);
    // Still streaming from the same camera: telemetry keeps flowing.
    const before = hub.hub.messages(hub.deviceId).length;
    await hub.hub.waitForMessages(before + 2, { deviceId: hub.deviceId }, 15_000);
    assert.equal(logs().filter((l) => l.msg === 'source open').length, 1);
    assert.equal(await agent.stop(), 0, agent.stderr());
  } catch (e) {
    console.error(agent.stderr().slice(-4000));
    throw e;
  } finally {
    await agent.stop();
    await hub.close();
  }
});
