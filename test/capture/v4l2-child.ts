// The program the v4l2 tests run in a child process, started with the fake camera preloaded
// (LD_PRELOAD must be in place at process start). It runs one scenario against the real
// addon, through the project's loader, and prints one JSON line; raw frames go to files.
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { isNativeCameraError, loadV4l2Binding, type NativeCamera, type NativeFrame, type NativeOpenOptions } from '../../src/capture/v4l2-binding.js';

export interface Resources {
  /** Every open descriptor of this process. */
  fds: number;
  /** Descriptors of the camera: the fake's timerfd and buffer memfds, or /dev/video*. */
  cameraFds: number;
  /** Mappings of camera buffers in /proc/self/maps. */
  cameraMaps: number;
}

export interface FrameRecord {
  format: string;
  width: number;
  height: number;
  stride: number;
  sequence: number;
  size: number;
  huffmanInserted: boolean;
  dropped: number;
  file?: string;
}

export function resources(): Resources {
  const names = fs.readdirSync('/proc/self/fd');
  let cameraFds = 0;
  for (const n of names) {
    try {
      const link = fs.readlinkSync(`/proc/self/fd/${n}`);
      if (link.includes('[timerfd]') || link.includes('memfd:fake-v4l2-buffer') || link.startsWith('/dev/video')) cameraFds++;
    } catch {
      // the descriptor readdir itself used is gone by now
    }
  }
  const maps = fs.readFileSync('/proc/self/maps', 'utf8').split('\n');
  const cameraMaps = maps.filter((l) => l.includes('memfd:fake-v4l2-buffer') || l.includes('/dev/video')).length;
  return { fds: names.length, cameraFds, cameraMaps };
}

function errorJson(e: unknown): Record<string, unknown> {
  if (isNativeCameraError(e)) return { code: e.code, message: e.message, syscall: e.syscall, errno: e.errno, errnoName: e.errnoName, path: e.path };
  return { code: 'NOT_NATIVE', message: String(e) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface StreamOptions {
  path?: string;
  open: NativeOpenOptions;
  /** Stop after this many frames (or at an error, or after timeoutMs). */
  count: number;
  /** How long JavaScript holds each frame before done(). */
  holdMs?: number;
  timeoutMs?: number;
  /** Write each frame's bytes here as <n>.bin. */
  saveDir?: string;
  /** Control operations to run once streaming: [op, id, value?]. */
  controls?: [string, number, number?][];
  /** Call close() this many ms after open() was called, without awaiting it. */
  closeDuringOpenMs?: number;
  /** Hand each frame's memory back with recycle() once it is recorded; 'small' hands back a
   * 16-byte buffer instead (too small for any frame), 'bad' a value that is no ArrayBuffer. */
  recycle?: 'yes' | 'small' | 'bad';
}

async function stream(o: StreamOptions): Promise<Record<string, unknown>> {
  const b = loadV4l2Binding();
  const before = resources();
  const frames: FrameRecord[] = [];
  const recycleErrors: string[] = [];
  let error: Record<string, unknown> | null = null;
  let during: Resources | null = null;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const onFrame = (f: NativeFrame): void => {
    const rec: FrameRecord = {
      format: f.format,
      width: f.width,
      height: f.height,
      stride: f.stride,
      sequence: f.sequence,
      size: f.data.length,
      huffmanInserted: f.huffmanInserted,
      dropped: f.dropped,
    };
    if (o.saveDir) {
      rec.file = path.join(o.saveDir, `${frames.length}.bin`);
      fs.writeFileSync(rec.file, f.data);
    }
    frames.push(rec);
    if (o.recycle === 'yes') cam.recycle(f.data.buffer as ArrayBuffer);
    if (o.recycle === 'small') cam.recycle(new ArrayBuffer(16));
    if (o.recycle === 'bad') {
      try {
        cam.recycle(f.data as unknown as ArrayBuffer);
      } catch (e) {
        recycleErrors.push(String(e));
      }
    }
    if (frames.length === 1) during = resources();
    if (frames.length >= o.count) return finish();
    if (o.holdMs) setTimeout(() => cam.done(), o.holdMs);
    else cam.done();
  };
  const cam: NativeCamera = new b.Camera(o.path ?? '/dev/video0', onFrame, (e) => {
    error = errorJson(e);
    finish();
  });
  let info: unknown = null;
  let openError: Record<string, unknown> | null = null;
  const opening = cam.open(o.open);
  if (o.closeDuringOpenMs === 0) cam.close();
  else if (o.closeDuringOpenMs !== undefined) setTimeout(() => cam.close(), o.closeDuringOpenMs);
  try {
    info = await opening;
  } catch (e) {
    openError = errorJson(e);
    finish();
  }
  const controls: unknown[] = [];
  for (const [op, id, value] of o.controls ?? []) {
    try {
      if (op === 'set') cam.setControl(id, value ?? 0);
      controls.push({ op, id, value: cam.getControl(id) });
    } catch (e) {
      controls.push({ op, id, error: errorJson(e) });
    }
  }
  const timer = setTimeout(finish, o.timeoutMs ?? 10_000);
  await finished;
  clearTimeout(timer);
  const statsBeforeClose = cam.stats();
  cam.close();
  await sleep(50); // let libuv run the handles' close callbacks
  return {
    info,
    openError,
    frames,
    error,
    stats: statsBeforeClose,
    statsAfterClose: cam.stats(),
    controls,
    before,
    during,
    after: resources(),
    recycleErrors,
  };
}

/** Streams until the camera is unplugged, tries again at once, then again after waitMs. */
async function reopen(o: StreamOptions & { waitMs: number }): Promise<Record<string, unknown>> {
  const first = await stream({ ...o, count: Number.MAX_SAFE_INTEGER });
  const whileGone = await stream(o);
  await sleep(o.waitMs);
  const afterReturn = await stream(o);
  return { results: [first, whileGone, afterReturn] };
}

async function list(paths: string[]): Promise<Record<string, unknown>> {
  const b = loadV4l2Binding();
  const before = resources();
  const devices = await b.listDevices();
  const described = [];
  for (const p of paths) {
    const d = await b.describe(p);
    described.push({ ...d, error: d.error ? errorJson(d.error) : null });
  }
  return { devices: devices.map((d) => ({ ...d, error: d.error ? errorJson(d.error) : null })), described, before, after: resources() };
}

/** Streams in a worker thread, then terminates the worker while it streams. */
async function worker(): Promise<Record<string, unknown>> {
  const self = fileURLToPath(import.meta.url);
  // A first worker without a camera: what Node opens once for its first worker is not counted.
  const idle = new Worker(self, { argv: ['worker-idle', '{}'] });
  await new Promise((resolve) => idle.once('message', resolve));
  await idle.terminate();
  await sleep(100);
  const before = resources();
  const w = new Worker(self, { argv: ['worker-body', '{}'] });
  const frames = await new Promise<number>((resolve, reject) => {
    w.once('message', (m: number) => resolve(m));
    w.once('error', reject);
  });
  const during = resources();
  await w.terminate();
  // The worker thread closes its own event loop's descriptors after terminate() resolves.
  for (let i = 0; i < 20 && resources().fds !== before.fds; i++) await sleep(50);
  return { frames, before, during, after: resources() };
}

async function workerBody(): Promise<void> {
  const { parentPort } = await import('node:worker_threads');
  const b = loadV4l2Binding();
  let n = 0;
  const cam = new b.Camera(
    '/dev/video0',
    () => {
      if (++n === 3) parentPort?.postMessage(n);
      cam.done();
    },
    (e) => parentPort?.postMessage(-1 * (e.errno || 1)),
  );
  await cam.open({ format: 'yuyv', width: 640, height: 480, fps: 30 });
}

const [scenario, json] = process.argv.slice(2);
const opts = JSON.parse(json ?? '{}') as StreamOptions & { paths?: string[]; waitMs: number };
const run: Record<string, () => Promise<Record<string, unknown> | void>> = {
  stream: () => stream(opts),
  reopen: () => reopen(opts),
  list: () => list(opts.paths ?? []),
  worker: () => worker(),
  'worker-body': () => workerBody(),
  'worker-idle': async () => {
    const { parentPort } = await import('node:worker_threads');
    parentPort?.postMessage(0);
  },
};
const body = run[scenario ?? ''];
if (!body) throw new Error(`unknown scenario ${scenario}`);
const result = await body();
if (result) process.stdout.write(JSON.stringify(result) + '\n');
