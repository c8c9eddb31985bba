// The benchmark's frames: the shared test photos re-encoded as JPEG, and a 1280x720 stream
// from ffmpeg's test source, all held in memory so every section sees the same bytes.

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import sharp from 'sharp';
import { MjpegSplitter } from '../capture/mjpeg.js';
import { PerceptError } from '../errors.js';

/** Item i of a list the bench cycles through (frames, messages), wrapping around. */
export function nth<T>(items: readonly T[], i: number): T {
  const item = items[i % items.length];
  if (item === undefined) throw new PerceptError('ERR_INPUT', 'the benchmark was given nothing to cycle through (no frames or no messages)');
  return item;
}

export interface BenchFrame {
  name: string;
  data: Buffer;
}

export async function benchFrames(imagesDir: string, streamFrames = 60): Promise<BenchFrame[]> {
  const out: BenchFrame[] = [];
  let names: string[];
  try {
    names = fs
      .readdirSync(imagesDir)
      .filter((n) => /\.(png|jpe?g)$/i.test(n))
      .sort();
  } catch (e) {
    throw new PerceptError(
      'ERR_INPUT',
      `the benchmark's photo folder ${imagesDir} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a folder of PNG or JPEG photos with --images`,
    );
  }
  for (const n of names) {
    const data = await sharp(path.join(imagesDir, n)).removeAlpha().toColourspace('srgb').jpeg({ quality: 90 }).toBuffer();
    out.push({ name: n, data });
  }
  const r = spawnSync(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=1280x720:rate=30',
      '-frames:v',
      String(streamFrames),
      '-c:v',
      'mjpeg',
      '-q:v',
      '3',
      '-pix_fmt',
      'yuvj420p',
      '-f',
      'mjpeg',
      'pipe:1',
    ],
    { maxBuffer: 512 * 1024 * 1024 },
  );
  if (r.status !== 0) {
    const why = r.error ? r.error.message : `ffmpeg exited with ${r.status}: ${String(r.stderr).trim().split('\n')[0]}`;
    throw new PerceptError('ERR_INPUT', `the benchmark's 1280x720 test stream could not be made (${why}); install ffmpeg (scripts/setup does)`);
  }
  new MjpegSplitter().push(r.stdout).forEach((data, i) => out.push({ name: `testsrc2-720p#${i}`, data }));
  return out;
}
