// The capture benchmark: CPU per frame from the camera to a frame handed to the inference
// workers, native V4L2 against ffmpeg, for 1280x720 MJPEG at 30 fps. Each measurement runs in
// its own process with the test suite's fake camera preloaded (ffmpeg inherits it and reads the
// same device with `-f v4l2`, exactly as percept's ffmpeg webcam path runs it).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { projectRoot } from '../models/manifest.js';
import type { CaptureRun } from './capture-child.js';

export interface CaptureBench {
  capture_cpu_ms_native: number | null;
  capture_cpu_ms_ffmpeg: number | null;
  capture_native_vs_ffmpeg: number | null;
  capture_fps_native: number | null;
  capture_fps_ffmpeg: number | null;
  capture_ffmpeg_input: string;
  /** What the CPU figures count, in words. */
  capture_counted: string;
}

type Say = (line: string) => void;

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'capture-child.js');
/** Runs per backend: CPU per frame varies by a tenth from run to run on a quiet machine. A
 * quick run (--seconds under 2, as the tests use) takes three. */
const runsFor = (seconds: number) => (seconds >= 2 ? 5 : 3);
const IMAGE = /\.(jpe?g|png)$/i;

/** 1280x720 baseline JPEGs of the photos, as a camera's MJPEG frames look. */
async function makeFrames(imagesDir: string): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'percept-bench-capture-'));
  const photos = fs
    .readdirSync(imagesDir)
    .filter((n) => IMAGE.test(n))
    .sort()
    .slice(0, 6);
  if (photos.length === 0) throw new Error(`no photos in ${imagesDir}`);
  for (const [i, name] of photos.entries()) {
    await sharp(path.join(imagesDir, name))
      .resize(1280, 720, { fit: 'cover' })
      .jpeg({ quality: 85, mozjpeg: false })
      .toFile(path.join(dir, `${i}.jpg`));
  }
  return dir;
}

function measure(backend: 'native' | 'ffmpeg', seconds: number, env: NodeJS.ProcessEnv): Promise<CaptureRun> {
  return new Promise((resolve, reject) => {
    // Its own process group: ffmpeg goes with it whatever happens.
    const child = spawn(process.execPath, [CHILD, backend, String(seconds)], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(kill, (seconds + 30) * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      kill();
      if (code !== 0) return reject(new Error(`capture bench (${backend}) exited with ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
      try {
        resolve(JSON.parse(out) as CaptureRun);
      } catch {
        reject(new Error(`capture bench (${backend}) printed no result: ${out} ${err}`));
      }
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? null;
const perFrame = (r: CaptureRun) => (r.cpuMs + r.childCpuMs) / Math.max(1, r.frames);

export async function benchCapture(say: Say, seconds: number, inputs: { imagesDir: string }): Promise<CaptureBench> {
  const input =
    'the fake V4L2 camera (LD_PRELOAD, inherited by ffmpeg), read by ffmpeg -f v4l2 -input_format mjpeg -c:v copy -f mjpeg pipe:1 as percept runs it';
  // The fake camera runs inside whichever process opens the device: percept's on the native
  // path, ffmpeg's on the other. Its work per frame is one copy of the JPEG into the mapped
  // buffer (what a camera's DMA does for free) and two ioctls, the same on both paths.
  const counted =
    'user+system CPU per captured frame after a 1 s warm-up: the measuring node process (capture, the source, the hand-off to a worker thread, the worker receiving it and answering, with the frame memory when the source reuses it) plus, on the ffmpeg path, ffmpeg (all threads, from /proc schedstat); the fake camera runs inside the process that opens it (node on the native path, ffmpeg on the other) and costs both the same: one copy of each JPEG into the mapped buffer and the DQBUF/QBUF ioctls';
  const none: CaptureBench = {
    capture_cpu_ms_native: null,
    capture_cpu_ms_ffmpeg: null,
    capture_native_vs_ffmpeg: null,
    capture_fps_native: null,
    capture_fps_ffmpeg: null,
    capture_ffmpeg_input: input,
    capture_counted: counted,
  };
  const fake = path.join(projectRoot(), 'test', 'fake-v4l2', 'libfakev4l2.so');
  if (!fs.existsSync(fake)) {
    say(`skipped: ${fake} is missing (npm run build builds it)`);
    return none;
  }
  const frames = await makeFrames(inputs.imagesDir);
  try {
    const env = { ...process.env, LD_PRELOAD: fake, FAKE_V4L2_FRAMES: frames, PERCEPT_LOG_LEVEL: 'silent' };
    say(
      `1280x720 MJPEG at 30 fps from ${fs.readdirSync(frames).length} photos; each frame handed to a worker thread and answered as the pool does (no inference); ${runsFor(seconds)} runs of ${seconds} s per backend, alternating; ffmpeg side: ${input}`,
    );
    say(`counted: ${counted}`);
    const runs: Record<'native' | 'ffmpeg', CaptureRun[]> = { native: [], ffmpeg: [] };
    for (let i = 0; i < runsFor(seconds); i++) {
      for (const backend of ['native', 'ffmpeg'] as const) {
        const r = await measure(backend, seconds, env);
        if (r.backend !== backend) throw new Error(`the ${backend} run read the camera through ${r.backend}`);
        runs[backend].push(r);
        say(
          `  ${backend.padEnd(6)} run ${i + 1}: ${r.frames} ${r.format} frames in ${r.seconds.toFixed(1)} s, ${perFrame(r).toFixed(3)} ms CPU/frame (node ${r.cpuMs.toFixed(0)} ms${backend === 'ffmpeg' ? `, ffmpeg ${r.childCpuMs.toFixed(0)} ms` : ''})`,
        );
      }
    }
    const cpu = (b: 'native' | 'ffmpeg') => median(runs[b].map(perFrame));
    const fps = (b: 'native' | 'ffmpeg') => median(runs[b].map((r) => r.frames / r.seconds));
    const result: CaptureBench = {
      ...none,
      capture_cpu_ms_native: cpu('native'),
      capture_cpu_ms_ffmpeg: cpu('ffmpeg'),
      capture_fps_native: fps('native'),
      capture_fps_ffmpeg: fps('ffmpeg'),
    };
    result.capture_native_vs_ffmpeg = result.capture_cpu_ms_native! / result.capture_cpu_ms_ffmpeg!;
    say(
      `CPU per frame (median): native ${result.capture_cpu_ms_native!.toFixed(3)} ms, ffmpeg ${result.capture_cpu_ms_ffmpeg!.toFixed(3)} ms; native/ffmpeg ${result.capture_native_vs_ffmpeg.toFixed(2)} (goal <= 0.5)`,
    );
    return result;
  } finally {
    fs.rmSync(frames, { recursive: true, force: true });
  }
}
