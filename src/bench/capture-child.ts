// One measurement of the capture bench, in a process of its own (started with the fake camera
// preloaded): opens the webcam source on one backend, hands each frame to a worker thread as
// the inference pool does (transferred, no inference), and prints the CPU this process and
// its ffmpeg child (if any) spent per frame after a warm-up. argv: backend, seconds.

import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { createSource } from '../capture/index.js';
import type { Frame } from '../types.js';

export interface CaptureRun {
  backend: string | undefined;
  frames: number;
  seconds: number;
  /** This process: user + system, milliseconds. */
  cpuMs: number;
  /** Its child processes (ffmpeg), from /proc: user + system, milliseconds. */
  childCpuMs: number;
  format: string;
  width: number;
  height: number;
  dropped: number;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux.

/** CPU of this process's children (ffmpeg), from /proc/<pid>/stat utime + stime. */
function childrenCpuMs(): number {
  let ms = 0;
  for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command (which may hold spaces) in parentheses: state ppid ... utime(14) stime(15).
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === process.pid) ms += (Number(f[11]) + Number(f[12])) * TICK_MS;
    } catch {
      // gone meanwhile
    }
  }
  return ms;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const [backend, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg);
const source = createSource({ id: 'cam', kind: 'webcam', uri: '/dev/video0', width: 1280, height: 720, fps: 30, loop: false, backend: backend === 'ffmpeg' ? 'ffmpeg' : 'native' });
// The pool's side of the hand-off: a worker that receives each frame's buffer, transferred.
const worker = new Worker('require("node:worker_threads").parentPort.on("message", () => {})', { eval: true });
const hand = (f: Frame) => {
  const buf = f.data;
  const ab = buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength && buf.buffer instanceof ArrayBuffer ? buf.buffer : buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  worker.postMessage({ type: 'job', format: f.format, width: f.width, height: f.height, data: ab }, [ab as ArrayBuffer]);
};

await source.open();
let last: Frame | null = null;
const until = async (ms: number, count: boolean) => {
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) {
    const f = await source.next();
    if (!f) throw new Error('the camera ended');
    last = f;
    hand(f);
    if (count) n++;
  }
  return n;
};
await until(1000, false);
const c0 = cpuMs();
const k0 = childrenCpuMs();
const t0 = performance.now();
const frames = await until(seconds * 1000, true);
const out: CaptureRun = {
  backend: source.backend,
  frames,
  seconds: (performance.now() - t0) / 1000,
  cpuMs: cpuMs() - c0,
  childCpuMs: childrenCpuMs() - k0,
  format: last!.format,
  width: last!.width,
  height: last!.height,
  dropped: source.stats.dropped,
};
await source.close();
await worker.terminate();
process.stdout.write(JSON.stringify(out) + '\n');
