// Runs the v4l2 test program in a child process with the fake camera preloaded, in its own
// process group (killed whole on timeout), and makes 1280x720 test frames from the shared
// photos with the standard Huffman tables (as cameras encode them).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { ROOT, image, tempDir } from '../helpers/paths.js';
import type { FrameRecord, Resources } from './v4l2-child.js';

export const FAKE_LIB = path.join(ROOT, 'test', 'fake-v4l2', 'libfakev4l2.so');
const CHILD = path.join(ROOT, 'dist', 'test', 'capture', 'v4l2-child.js');
export const PHOTOS = ['dog.jpg', 'rocket.jpg', 'coffee.png'];

export interface StreamResult {
  info: { format: string; width: number; height: number; stride: number; sizeImage: number; fps: number; buffers: number } | null;
  openError: ErrorJson | null;
  frames: FrameRecord[];
  error: ErrorJson | null;
  stats: { captured: number; delivered: number; dropped: number; corrupt: number; driverDropped: number; reused: number; state: string };
  statsAfterClose: { state: string };
  controls: { op: string; id: number; value?: number; error?: ErrorJson }[];
  before: Resources;
  during: Resources | null;
  after: Resources;
  recycleErrors: string[];
}

export interface ErrorJson {
  code: string;
  message: string;
  syscall?: string;
  errno?: number;
  errnoName?: string | null;
}

/** Runs a scenario of v4l2-child.js with the fake camera preloaded and `env` (its FAKE_V4L2_*
 * settings) added; resolves the JSON it prints. */
export function runFake<T = StreamResult>(scenario: string, options: unknown, env: Record<string, string> = {}, timeoutMs = 30_000): Promise<T> {
  if (!fs.existsSync(FAKE_LIB)) return Promise.reject(new Error(`${FAKE_LIB} is missing: build it with npm run build`));
  return runChild<T>(scenario, options, { ...process.env, LD_PRELOAD: FAKE_LIB, ...env }, timeoutMs);
}

/** The same with another test program (a built script under dist/test) as the child. */
export function runFakeScript<T>(script: string, scenario: string, options: unknown, env: Record<string, string> = {}, timeoutMs = 30_000): Promise<T> {
  if (!fs.existsSync(FAKE_LIB)) return Promise.reject(new Error(`${FAKE_LIB} is missing: build it with npm run build`));
  return runChild<T>(scenario, options, { ...process.env, LD_PRELOAD: FAKE_LIB, ...env }, timeoutMs, script);
}

/** The same against the machine's real devices (a camera, vivid, v4l2loopback): nothing preloaded. */
export function runReal<T = StreamResult>(scenario: string, options: unknown, timeoutMs = 30_000): Promise<T> {
  const env = { ...process.env };
  delete env.LD_PRELOAD;
  return runChild<T>(scenario, options, env, timeoutMs);
}

function runChild<T>(scenario: string, options: unknown, env: NodeJS.ProcessEnv, timeoutMs: number, script = CHILD): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, scenario, JSON.stringify(options)], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`child ${scenario} exited with ${code ?? signal}: ${err}`));
      if (err.trim()) return reject(new Error(`child ${scenario} wrote to stderr: ${err}`));
      try {
        resolve(JSON.parse(out) as T);
      } catch (e) {
        reject(new Error(`child ${scenario} printed no JSON: ${out} ${err}`, { cause: e }));
      }
    });
  });
}

/** A folder of 1280x720 baseline JPEGs encoded with the standard (Annex K) Huffman tables. */
export async function makeFrames(): Promise<string> {
  const dir = tempDir('percept-v4l2-frames-');
  for (const [i, name] of PHOTOS.entries()) {
    await sharp(image(name))
      .resize(1280, 720, { fit: 'cover' })
      .jpeg({ quality: 85, optimiseCoding: false, mozjpeg: false })
      .toFile(path.join(dir, `${i}.jpg`));
  }
  return dir;
}

export function frameFiles(dir: string): Buffer[] {
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.jpg'))
    .sort()
    .map((n) => fs.readFileSync(path.join(dir, n)));
}
