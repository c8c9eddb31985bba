// One measurement of the capture bench, in a process of its own (started with the fake camera
// preloaded): opens the webcam source on one backend, hands each frame to a worker thread as
// the inference pool does (transferred, no inference, each job answered and the memory sent
// back as the pool's workers do), and prints the CPU this process and its ffmpeg child (if
// any) spent per frame after a warm-up. argv: backend, seconds.

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
  /** Its child processes (ffmpeg), from /proc: time on CPU, milliseconds. */
  childCpuMs: number;
  format: string;
  width: number;
  height: number;
  dropped: number;
}

/**
 * CPU of this process's children (ffmpeg), in milliseconds: the sum over their threads of
 * /proc/<pid>/task/<tid>/schedstat's time on CPU (nanoseconds; stat's utime and stime count
 * in 10 ms ticks, too coarse for a few seconds of ffmpeg).
 */
function childrenCpuMs(): number {
  let ns = 0;
  for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      // The fields after the command (which may hold spaces, in parentheses): state, ppid, ...
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== process.pid) continue;
      for (const tid of fs.readdirSync(`/proc/${pid}/task`)) ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // gone meanwhile
    }
  }
  return ns / 1e6;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const [backend, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg);
const source = createSource({
  id: 'cam',
  kind: 'webcam',
  uri: '/dev/video0',
  width: 1280,
  height: 720,
  fps: 30,
  loop: false,
  backend: backend === 'ffmpeg' ? 'ffmpeg' : 'native',
});
// The pool's side of the hand-off: a worker that receives each frame's buffer, transferred,
// and answers each job as the pool's workers do (with a result there, an empty one here),
// sending the frame's memory back with the answer when its source reuses it (the native
// camera does; Frame.release).
const worker = new Worker(
  `const { parentPort } = require('node:worker_threads');
   parentPort.on('message', (m) => m.returnData ? parentPort.postMessage({ id: m.id, data: m.data }, [m.data]) : parentPort.postMessage({ id: m.id }));`,
  { eval: true },
);
const releases = new Map<number, (memory: ArrayBuffer) => void>();
worker.on('message', (m: { id: number; data?: ArrayBuffer }) => {
  if (m.data) releases.get(m.id)?.(m.data);
  releases.delete(m.id);
});
let jobs = 0;
const hand = (f: Frame) => {
  const buf = f.data;
  const whole = buf.byteOffset === 0 && buf.buffer instanceof ArrayBuffer && (buf.byteLength === buf.buffer.byteLength || f.release !== undefined);
  const ab = whole ? buf.buffer : buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const id = ++jobs;
  if (whole && f.release) releases.set(id, f.release);
  worker.postMessage({ type: 'job', id, format: f.format, width: f.width, height: f.height, data: ab, length: buf.byteLength, returnData: releases.has(id) }, [
    ab as ArrayBuffer,
  ]);
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
