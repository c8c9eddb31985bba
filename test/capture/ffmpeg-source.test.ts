// ffmpeg-backed sources with a real ffmpeg: a video file is lossless (every frame, in order);
// a live test pattern, or a still photo played live, drops to the newest frame when nobody takes
// frames; a source that never delivers a frame fails its open; one that worked and then dies or
// stalls is restarted.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import sharp from 'sharp';
import { FfmpegSource } from '../../src/capture/ffmpeg.js';
import { PerceptError } from '../../src/errors.js';
import { image, tempDir } from '../helpers/paths.js';
import { freePort } from '../helpers/net.js';
import type { SourceConfig } from '../../src/config/schema.js';

const cfg = (c: Partial<SourceConfig>): SourceConfig => ({ id: 's', kind: 'video', uri: '', loop: false, ...c });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a video file gives every frame, in order, then ends', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'clip.mp4');
  const r = spawnSync('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=320x240:rate=25',
    '-frames:v',
    '40',
    '-pix_fmt',
    'yuv420p',
    file,
  ]);
  assert.equal(r.status, 0, String(r.stderr));
  const src = new FfmpegSource(cfg({ kind: 'video', uri: file }));
  await src.open();
  const seqs: number[] = [];
  for (;;) {
    const f = await src.next();
    if (!f) break;
    assert.equal(f.format, 'jpeg');
    assert.equal(f.data[0], 0xff);
    seqs.push(f.seq);
    await sleep(2); // a slow consumer must not lose frames
  }
  await src.close();
  assert.deepEqual(
    seqs,
    Array.from({ length: 40 }, (_, i) => i + 1),
  );
  assert.equal(src.stats.dropped, 0);
});

test('a missing video file is ERR_SOURCE_UNREADABLE', async () => {
  const src = new FfmpegSource(cfg({ kind: 'video', uri: '/nonexistent/clip.mp4' }));
  await assert.rejects(src.open(), (e: unknown) => PerceptError.is(e, 'ERR_SOURCE_UNREADABLE'));
});

test('a live source keeps only the newest frame and counts the drops', async () => {
  const src = new FfmpegSource(cfg({ kind: 'synthetic', fps: 50, width: 160, height: 120 }));
  await src.open();
  await sleep(1500);
  const f = await src.next();
  await src.close();
  assert.ok(f);
  assert.ok(src.stats.captured >= 20, `captured ${src.stats.captured}`);
  assert.ok(src.stats.dropped >= src.stats.captured - 2, `dropped ${src.stats.dropped} of ${src.stats.captured}`);
  assert.ok(f.seq >= src.stats.captured - 1, 'the frame handed over is the newest');
});

test('a synthetic source given a still photo plays it as a live camera: the photo, at its rate on the clock, newest frame wins', async () => {
  const src = new FfmpegSource(cfg({ kind: 'synthetic', uri: image('dog.jpg'), fps: 20 }));
  assert.equal(src.live, true);
  await src.open();
  const first = await src.next();
  const t0 = performance.now();
  const captured0 = src.stats.captured;
  await sleep(2000);
  const last = await src.next();
  const seconds = (performance.now() - t0) / 1000;
  const captured = src.stats.captured - captured0;
  await src.close();
  assert.ok(first && last);
  // The photo itself (dog.jpg is 768x576; the test pattern would be 1280x720), the same every frame.
  const meta = await sharp(last.data).metadata();
  assert.deepEqual([meta.width, meta.height], [768, 576]);
  // (ffmpeg's JPEG encoder may word the same picture differently from frame to frame, so compare pixels.)
  const pixels = (f: typeof first) => sharp(f.data).greyscale().raw().toBuffer();
  const [a, b] = [await pixels(first), await pixels(last)];
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
  assert.ok(diff / a.length < 1, `a still photo gives the same picture every frame (mean difference ${(diff / a.length).toFixed(2)} grey levels)`);
  // Paced by the clock like a camera (unpaced, ffmpeg would deliver hundreds a second), newest wins.
  assert.ok(captured <= seconds * 20 + 3, `captured ${captured} in ${seconds.toFixed(2)} s at 20 fps`);
  assert.ok(captured >= seconds * 20 * 0.5, `captured ${captured} in ${seconds.toFixed(2)} s at 20 fps`);
  assert.ok(src.stats.dropped >= src.stats.captured - 3, `dropped ${src.stats.dropped} of ${src.stats.captured}`);
  assert.ok(last.seq >= src.stats.captured - 1, 'the frame handed over is the newest');
});

test('a synthetic source whose photo is missing is ERR_SOURCE_UNREADABLE naming it', async () => {
  const src = new FfmpegSource(cfg({ kind: 'synthetic', uri: '/nonexistent/still.jpg' }));
  // (Should it open after all, it is closed, so its ffmpeg does not outlive the test.)
  await assert.rejects(
    src.open().then(() => src.close()),
    (e: unknown) => PerceptError.is(e, 'ERR_SOURCE_UNREADABLE') && /\/nonexistent\/still\.jpg not found/.test(e.message),
  );
});

test('a stream never reached fails its open at once with the reason', async () => {
  const port = await freePort();
  const src = new FfmpegSource(cfg({ kind: 'rtsp', uri: `rtsp://127.0.0.1:${port}/cam` }), { backoffMs: [50, 200] });
  await assert.rejects(
    src.open(),
    (e: unknown) => PerceptError.is(e, 'ERR_SOURCE_UNREADABLE') && /connection refused/.test(e.message) && /percept doctor/.test(e.message),
  );
  assert.equal(src.stats.restarts, 0, 'not retried');
});

test('a source that opens but never delivers a frame fails its open after the stall time', async () => {
  const dir = tempDir();
  // A real process standing in for a camera that opens and then never delivers a frame.
  const fake = path.join(dir, 'stalling-ffmpeg');
  fs.writeFileSync(fake, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
  const src = new FfmpegSource(cfg({ kind: 'rtsp', uri: 'rtsp://127.0.0.1:9/never' }), { ffmpegPath: fake, stallMs: 400, backoffMs: [50, 100] });
  await assert.rejects(src.open(), (e: unknown) => PerceptError.is(e, 'ERR_SOURCE_UNREADABLE') && /no frame within 0.4 s/.test(e.message));
});

test('a source that delivered frames and then stalls is killed and restarted', async () => {
  const dir = tempDir();
  // A camera that sends one frame, then hangs.
  const fake = path.join(dir, 'one-frame-ffmpeg');
  fs.writeFileSync(fake, `#!/bin/sh\ncat '${image('dog.jpg')}'\nexec sleep 30\n`, { mode: 0o755 });
  const src = new FfmpegSource(cfg({ kind: 'rtsp', uri: 'rtsp://127.0.0.1:9/cam' }), { ffmpegPath: fake, stallMs: 400, backoffMs: [50, 100] });
  await src.open();
  await sleep(2500);
  await src.close();
  assert.ok(src.stats.restarts >= 2, `restarts ${src.stats.restarts}`);
  assert.ok(src.stats.captured >= 3, `each restart delivered its frame again (captured ${src.stats.captured})`);
});

test('closing a lossless source whose queue is full does not wait for ffmpeg forever', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'long.mp4');
  const r = spawnSync('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=320x240:rate=25',
    '-frames:v',
    '250',
    '-pix_fmt',
    'yuv420p',
    file,
  ]);
  assert.equal(r.status, 0, String(r.stderr));
  const src = new FfmpegSource(cfg({ kind: 'video', uri: file }));
  await src.open();
  await src.next();
  await sleep(500); // ffmpeg fills the queue and the pipe, then blocks writing
  const closed = await Promise.race([src.close().then(() => true), sleep(10_000).then(() => false)]);
  assert.ok(closed, 'close() returned');
});
