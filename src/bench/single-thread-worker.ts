// The bound's unit, measured in a worker thread like the pool's (same imports, so the same
// heap and garbage collector behaviour): one frame at a time, sharp with one thread and a
// 1-thread session. The bench asks for timed slices between its pool slices, and for slices
// of session.run alone to see how this machine scales from one busy core to two.

import { parentPort, workerData } from 'node:worker_threads';
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';
import { nth } from './frames.js';
import { benchFrameRunner, benchSession, timeFor } from './frame-loop.js';
import { inputDims } from '../inference/frame.js';
import { preprocess } from '../inference/preprocess.js';
import type { ModelManifest } from '../models/types.js';

export interface SingleThreadInit {
  modelPath: string;
  manifest: ModelManifest;
  frames: Uint8Array[];
}
/** `frame`: whole passes over the bench's frames; `raw`: session.run alone on a fixed tensor. */
export type SingleThreadRequest = { type: 'slice'; kind: 'frame' | 'raw'; ms: number; minIters: number; from: number } | { type: 'close' };
export type SingleThreadReply = { type: 'ready' } | { type: 'slice'; n: number; elapsed: number };

sharp.concurrency(1);
sharp.cache(false);
const init = workerData as SingleThreadInit;
const port = parentPort!;
const frames = init.frames.map((u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength));
const session = await benchSession(init.modelPath, 1);
const one = benchFrameRunner(session, init.manifest);
const m = init.manifest;
const fixed = { [m.input.name]: new ort.Tensor('float32', (await preprocess(nth(frames, 0), 'jpeg', 0, 0, m.input)).tensor, inputDims(m.input)) };
const reply = (msg: SingleThreadReply) => port.postMessage(msg);
reply({ type: 'ready' });
async function handle(req: SingleThreadRequest): Promise<void> {
  if (req.type === 'close') {
    await session.release();
    port.close();
    return;
  }
  // One untimed run first, as the pool's count starts after its ramp: a slice that follows
  // another measurement starts with caches that hold the other's data.
  let r;
  if (req.kind === 'raw') {
    await session.run(fixed);
    r = await timeFor(req.ms, req.minIters, async () => void (await session.run(fixed)));
  } else {
    await one(nth(frames, req.from));
    r = await timeFor(req.ms, req.minIters, (i) => one(nth(frames, req.from + 1 + i)), undefined, frames.length);
  }
  reply({ type: 'slice', ...r });
}

// A slice that fails ends this worker with its error, which the bench's 'error' listener reports.
port.on('message', (req: SingleThreadRequest) => {
  handle(req).catch((e: unknown) =>
    process.nextTick(() => {
      throw e;
    }),
  );
});
