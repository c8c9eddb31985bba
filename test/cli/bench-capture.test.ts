// `percept bench --section capture`: native V4L2 against ffmpeg on the fake camera, each in
// its own process; both read 1280x720 MJPEG from the same device, and the figures agree with
// each other. How fast either is, is the bench's business.
import test from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';
import { at } from '../helpers/at.js';
import { nearQuotient } from '../helpers/figures.js';

test('bench --section capture measures both backends on the same 1280x720 MJPEG frames', { timeout: 120_000 }, async () => {
  const r = await runCli(['bench', '--section', 'capture', '--json', '--seconds', '1'], { timeoutMs: 110_000 });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const o = JSON.parse(at(lines, -1)) as Record<string, number | string>;
  for (const k of ['capture_cpu_ms_native', 'capture_cpu_ms_ffmpeg', 'capture_native_vs_ffmpeg', 'capture_fps_native', 'capture_fps_ffmpeg']) {
    assert.ok(typeof o[k] === 'number' && o[k] > 0, `${k}: ${o[k]}`);
  }
  nearQuotient(o.capture_native_vs_ffmpeg as number, o.capture_cpu_ms_native as number, o.capture_cpu_ms_ffmpeg as number, 'native/ffmpeg');
  assert.match(String(o.capture_ffmpeg_input), /ffmpeg -f v4l2 -input_format mjpeg/);
  // What is counted is said, the fake camera's share on both paths included.
  assert.match(String(o.capture_counted), /fake camera runs inside the process that opens it/);
  assert.ok(
    lines.some((l) => l.startsWith('counted: ')),
    'the counting is printed',
  );
  // Three runs each in a quick run, alternating, every frame a JPEG from the camera on both paths.
  const runs = lines.filter((l) => /^ {2}(native|ffmpeg) run \d: \d+ jpeg frames/.test(l));
  assert.deepEqual(
    runs.map((l) => l.trim().split(' ')[0]),
    ['native', 'ffmpeg', 'native', 'ffmpeg', 'native', 'ffmpeg'],
  );
  assert.ok(!('pool_fps' in o), 'only the capture section ran');
});
