// The percept command with the fake camera preloaded: `percept cameras` lists it, `percept run`
// reads it natively (and finds it as the default source), `backend: "ffmpeg"` in a config
// keeps the ffmpeg path, and without the addon the camera is read through ffmpeg with a
// warning and the reason. ffmpeg inherits LD_PRELOAD, so it reads the same fake device.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, jsonLines } from '../helpers/cli.js';
import { YOLOX_NANO, tempDir } from '../helpers/paths.js';
import { FAKE_LIB, makeFrames } from './v4l2-harness.js';
import { at } from '../helpers/at.js';

const frames = await makeFrames();
const env = { LD_PRELOAD: FAKE_LIB, FAKE_V4L2_FRAMES: frames };
const MODEL = ['--model', 'yolox-nano', '--model-path', YOLOX_NANO, '--workers', '1', '--no-preview', '--output', 'jsonl'];

const sourceOpen = (stderr: string) => jsonLines(stderr).find((l) => l.msg === 'source open');

test('percept cameras --json lists /dev/video0 with MJPEG at 1280x720 and its controls', async () => {
  const r = await runCli(['cameras', '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  const { cameras } = JSON.parse(r.stdout) as {
    cameras: Array<{
      path: string;
      capture: boolean;
      formats: Array<{ fourcc: string; sizes: Array<{ width: number; height: number; intervals: Array<{ numerator: number; denominator: number }> }> }>;
      controls: Array<{ key: string }>;
    }>;
  };
  assert.equal(cameras.length, 1);
  const cam = at(cameras, 0);
  assert.equal(cam.path, '/dev/video0');
  assert.equal(cam.capture, true);
  const mjpeg = cam.formats.find((f) => f.fourcc === 'MJPG');
  assert.ok(
    mjpeg?.sizes.some((s) => s.width === 1280 && s.height === 720 && s.intervals.some((i) => i.denominator / i.numerator === 30)),
    JSON.stringify(cam.formats),
  );
  assert.deepEqual(
    cam.controls.map((c) => c.key),
    ['brightness', 'power_line_frequency', 'exposure_auto', 'exposure_absolute'],
  );
  const text = await runCli(['cameras'], { env });
  assert.match(text.stdout, /\/dev\/video0 {2}Fake Camera 0[^\n]*\n {2}MJPG {2}Motion-JPEG\n {4}1280x720 @ 30, 15, 5 fps/);
});

test('percept run --source /dev/video0 --frames 20 prints 20 results through the native backend', async () => {
  const r = await runCli(['run', '--source', '/dev/video0', '--frames', '20', ...MODEL], { env, timeoutMs: 90_000 });
  assert.equal(r.code, 0, r.stderr);
  const results = jsonLines(r.stdout);
  assert.equal(results.length, 20);
  assert.ok(
    results.every((x) => x.sourceId === 'src0' && x.source === '/dev/video0' && x.width === 1280),
    r.stdout.slice(0, 400),
  );
  assert.ok(
    results.some((x) => (x.detections as Array<{ label: string }>).some((d) => d.label === 'dog')),
    'the photos are seen',
  );
  assert.equal(sourceOpen(r.stderr)?.backend, 'native');
});

test('the first camera, found through the addon, is the default source', async () => {
  const r = await runCli(['run', '--frames', '3', ...MODEL], { env, timeoutMs: 90_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual([sourceOpen(r.stderr)?.source, sourceOpen(r.stderr)?.uri, sourceOpen(r.stderr)?.backend], ['cam0', '/dev/video0', 'native']);
  const doctor = await runCli(['doctor', '--json'], { env });
  const cams = (JSON.parse(doctor.stdout) as { checks: Array<{ name: string; ok: boolean; detail: string }> }).checks.find((c) => c.name === 'cameras');
  assert.deepEqual([cams?.ok, cams?.detail], [true, '/dev/video0 (Fake Camera 0: MJPG, YUYV, NV12)']);
});

test('backend "ffmpeg" in a config file keeps the ffmpeg path', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'percept.json');
  fs.writeFileSync(
    file,
    JSON.stringify({ sources: [{ id: 'cam', kind: 'webcam', uri: '/dev/video0', backend: 'ffmpeg', width: 1280, height: 720, fps: 30 }] }),
  );
  const r = await runCli(['run', '--config', file, '--frames', '5', ...MODEL], { env, timeoutMs: 90_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(jsonLines(r.stdout).length, 5);
  const open = sourceOpen(r.stderr);
  assert.deepEqual([open?.backend, open?.backendReason], ['ffmpeg', undefined]);
});

test('without the addon the camera is read through ffmpeg, with a warning and the reason', async () => {
  const r = await runCli(['run', '--source', '/dev/video0', '--frames', '5', ...MODEL], {
    env: { ...env, PERCEPT_V4L2_ADDON: '/nonexistent/v4l2.node' },
    timeoutMs: 90_000,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(jsonLines(r.stdout).length, 5);
  const warn = jsonLines(r.stderr).find((l) => l.level === 40 && /native camera capture unavailable/.test(String(l.msg)));
  assert.ok(warn, r.stderr);
  assert.match(String(warn.reason), /could not be loaded from \/nonexistent\/v4l2\.node/);
  const open = sourceOpen(r.stderr);
  assert.equal(open?.backend, 'ffmpeg');
  assert.equal(open?.backendReason, warn.reason);
});
