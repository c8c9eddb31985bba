// `--motion on` gates a video file (not gated by default): a clip of a still photo gives a
// result for its first frame (a keyframe) and skips the rest, which the run's account counts;
// `--motion off` (the default for files) infers every frame. Real ffmpeg, real YOLOX-Nano.
// The photo holds nothing the model knows, so no track keeps frames inferred, and the keyframe
// interval is set longer than any run: how fast a loaded machine reads the clip cannot matter.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCli, jsonLines } from '../helpers/cli.js';
import { YOLOX_NANO, image, tempDir } from '../helpers/paths.js';

/** 2 s at 15 fps of one still photo: 30 frames, read faster than real time. */
function stillClip(): string {
  const file = path.join(tempDir(), 'still.mp4');
  const r = spawnSync('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-loop',
    '1',
    '-i',
    image('rocket.jpg'),
    '-t',
    '2',
    '-r',
    '15',
    '-vf',
    'scale=640:480',
    '-pix_fmt',
    'yuv420p',
    file,
  ]);
  assert.equal(r.status, 0, String(r.stderr));
  return file;
}

test('--motion on skips the still frames of a video file and counts them; off infers them all', { timeout: 120_000 }, async () => {
  const clip = stillClip();
  const flags = '--motion-keyframe 3600 --model yolox-nano --workers 1 --no-preview --output jsonl'.split(' ');
  const run = (motion: string) => runCli(['run', '--source', clip, '--motion', motion, '--model-path', YOLOX_NANO, ...flags], { timeoutMs: 90_000 });
  const on = await run('on');
  assert.equal(on.code, 0, on.stderr.slice(-2000));
  const stoppedOn = jsonLines(on.stderr).find((l) => l.msg === 'stopped');
  const results = jsonLines(on.stdout).length;
  assert.equal(results, 1, 'only the first frame, a keyframe, reaches the model');
  assert.equal(stoppedOn?.inferred, 1);
  assert.equal(stoppedOn?.skipped, 29, 'every other frame skipped and counted');

  const off = await run('off');
  assert.equal(off.code, 0, off.stderr.slice(-2000));
  assert.equal(jsonLines(off.stdout).length, 30);
  assert.equal(jsonLines(off.stderr).find((l) => l.msg === 'stopped')?.skipped, 0);
});
