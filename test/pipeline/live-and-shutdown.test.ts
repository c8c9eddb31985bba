// A live source faster than the pool drops to the newest frame (counted) and results keep
// capture order; several sources run side by side; every kind of source (video, folder,
// image, demo, synthetic) stops promptly and drained after --frames, paced or not, and on
// SIGINT/SIGTERM, with exit code 0 and the right number of results.
import test from 'node:test';
import assert from 'node:assert/strict';
import { runCli, startCli, jsonLines } from '../helpers/cli.js';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { YOLOX_NANO, image, tempDir } from '../helpers/paths.js';
import { at } from '../helpers/at.js';

test('a live source faster than the pool drops to the newest frame', async () => {
  // 1080p at 60 fps into one single-threaded worker: decoding and letterboxing a 1080p frame
  // plus YOLOX-Nano takes well over the 16.7 ms between frames.
  const dir = tempDir();
  const cfg = path.join(dir, 'live.json');
  fs.writeFileSync(
    cfg,
    JSON.stringify({
      sources: [{ id: 'cam', kind: 'synthetic', fps: 60, width: 1920, height: 1080 }],
      workers: 1,
      threads: 1,
      model: { name: 'yolox-nano', path: YOLOX_NANO },
    }),
  );
  const r = await runCli(['run', '--config', cfg, '--frames', '25', '--output', 'jsonl']);
  assert.equal(r.code, 0, r.stderr);
  const lines = jsonLines(r.stdout);
  assert.equal(lines.length, 25);
  const seqs = lines.map((l) => l.seq as number);
  for (let i = 1; i < seqs.length; i++) assert.ok(at(seqs, i) > at(seqs, i - 1), 'capture order');
  const gaps = at(seqs, -1) - at(seqs, 0) + 1 - seqs.length;
  assert.ok(gaps > 0, `frames were skipped while the worker was busy (seqs ${seqs.join(',')})`);
  assert.equal(at(lines, 0).width, 1920);
  const stopped = jsonLines(r.stderr).find((l) => l.msg === 'stopped');
  assert.ok(stopped, 'the run logs its final counts');
});

test('SIGTERM stops a live run cleanly with exit code 0', async () => {
  const cli = startCli(['run', '--source', 'demo', '--output', 'jsonl']);
  assert.ok(await cli.waitFor((p) => jsonLines(p.stdout).length >= 3, 30_000), `results before the signal; stderr: ${cli.stderr}`);
  cli.child.kill('SIGTERM');
  const r = await cli.done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /"msg":"stopped"/);
});

test('two sources with their own ids run side by side, each in order', async () => {
  const r = await runCli([
    'run',
    '--source',
    `a=${image('dog.jpg')}`,
    '--source',
    `b=${image('astronaut.png')}`,
    '--loop',
    '--model',
    'yolox-nano',
    '--model-path',
    YOLOX_NANO,
    '--frames',
    '10',
    '--output',
    'jsonl',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = jsonLines(r.stdout);
  assert.equal(lines.length, 10);
  for (const id of ['a', 'b']) {
    const mine = lines.filter((l) => l.sourceId === id);
    assert.ok(mine.length >= 2, `source ${id} produced results`);
    const seqs = mine.map((l) => l.seq as number);
    assert.deepEqual(
      seqs,
      [...seqs].sort((x, y) => x - y),
    );
  }
});

test('an fps on a file source paces it', async () => {
  const t0 = Date.now();
  const r = await runCli([
    'run',
    '--source',
    image('dog.jpg'),
    '--loop',
    '--fps',
    '10',
    '--model',
    'yolox-nano',
    '--model-path',
    YOLOX_NANO,
    '--frames',
    '8',
    '--output',
    'jsonl',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = jsonLines(r.stdout);
  const times = lines.map((l) => Date.parse(String(l.capturedAt)));
  const span = at(times, -1) - at(times, 0);
  assert.ok(span >= 650, `8 frames at 10 fps span >= 0.7 s, got ${span} ms`);
  assert.ok(Date.now() - t0 < 30_000);
});

// Each run is killed (and the test fails) if it has not exited by then: a run that hangs
// after its last result used to wait forever.
const HANG_MS = 25_000;

/** A 5 s, 10 fps video of one of the shared photos, made with the real ffmpeg. */
function makeVideo(): string {
  const file = path.join(tempDir(), 'clip.mp4');
  const r = spawnSync('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-loop',
    '1',
    '-i',
    image('dog.jpg'),
    '-t',
    '5',
    '-r',
    '10',
    '-vf',
    'scale=320:240',
    '-pix_fmt',
    'yuv420p',
    file,
  ]);
  assert.equal(r.status, 0, String(r.stderr));
  return file;
}

let video = '';
let folder = '';
/** Each kind of source as a user names it; image and folder loop so they outlast --frames. */
const kinds: Array<{ kind: string; args: () => string[] }> = [
  { kind: 'video', args: () => ['--source', video] },
  { kind: 'folder', args: () => ['--source', folder, '--loop'] },
  { kind: 'image', args: () => ['--source', image('dog.jpg'), '--loop'] },
  { kind: 'demo', args: () => ['--source', 'demo'] },
  { kind: 'synthetic', args: () => ['--source', 'synthetic'] },
];

test.before(() => {
  video = makeVideo();
  folder = tempDir();
  for (const n of ['dog.jpg', 'rocket.jpg', 'coffee.png']) fs.copyFileSync(image(n), path.join(folder, n));
});

async function runToEnd(args: string[], frames: number): Promise<void> {
  const cli = startCli(['run', ...args, '--frames', String(frames), '--workers', '1', '--no-preview', '--output', 'jsonl'], { timeoutMs: HANG_MS });
  const r = await cli.done;
  assert.equal(r.code, 0, `exit code ${r.code} (signal ${r.signal}); stderr: ${r.stderr.slice(-2000)}`);
  assert.equal(jsonLines(r.stdout).length, frames);
  const stopped = jsonLines(r.stderr).find((l) => l.msg === 'stopped');
  assert.equal(stopped?.inferred, frames, 'the run stops drained, having counted every result');
  assert.equal(stopped?.drained, true);
}

for (const { kind, args } of kinds) {
  test(`${kind} source: paced with --fps 4, stops by itself after --frames 5`, () => runToEnd([...args(), '--fps', '4'], 5));
  test(`${kind} source: stops by itself after --frames 2`, () => runToEnd(args(), 2));
  test(`${kind} source: stops cleanly on SIGINT mid-run`, async () => {
    const cli = startCli(['run', ...args(), '--fps', '4', '--workers', '1', '--no-preview', '--output', 'jsonl'], { timeoutMs: HANG_MS });
    assert.ok(await cli.waitFor((p) => jsonLines(p.stdout).length >= 2, HANG_MS), `results before the signal; stderr: ${cli.stderr.slice(-2000)}`);
    // To the command alone, as Ctrl-C in a terminal would (ffmpeg is spared: it is ours to stop).
    cli.child.kill('SIGINT');
    const r = await cli.done;
    assert.equal(r.code, 0, `exit code ${r.code} (signal ${r.signal}); stderr: ${r.stderr.slice(-2000)}`);
    const stopped = jsonLines(r.stderr).find((l) => l.msg === 'stopped');
    assert.equal(stopped?.inferred, jsonLines(r.stdout).length, 'every result written is counted');
    assert.equal(stopped?.drained, true);
  });
}

test('a closed terminal (SIGHUP) stops a run as cleanly as SIGTERM', async () => {
  const cli = startCli(['run', '--source', 'synthetic', '--fps', '4', '--workers', '1', '--no-preview', '--output', 'jsonl'], { timeoutMs: HANG_MS });
  assert.ok(await cli.waitFor((p) => jsonLines(p.stdout).length >= 1, HANG_MS), `a result before the signal; stderr: ${cli.stderr.slice(-2000)}`);
  cli.child.kill('SIGHUP');
  const r = await cli.done;
  assert.equal(r.code, 0, `exit code ${r.code} (signal ${r.signal}); stderr: ${r.stderr.slice(-2000)}`);
  assert.equal(jsonLines(r.stderr).find((l) => l.msg === 'stopped')?.drained, true);
});

test('a video source paced by its config fps stops after --frames', async () => {
  const cfg = path.join(tempDir(), 'video.json');
  fs.writeFileSync(cfg, JSON.stringify({ sources: [{ id: 'clip', kind: 'video', uri: video, fps: 4 }] }));
  await runToEnd(['--config', cfg], 5);
});
