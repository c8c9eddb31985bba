// One whole frame on the calling thread, done the way an inference worker does it (sharp
// decode and letterbox, tensor into a reused buffer, session.run, decode), and a timed loop
// over it. Shared by the naive main-thread loop and the single-thread worker that measures
// the 2-core bound; it imports what an inference worker imports and nothing more.

import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { preprocess } from '../inference/preprocess.js';
import { decode } from '../models/decode.js';
import type { ModelManifest, Outputs } from '../models/types.js';

export async function benchSession(modelPath: string, threads: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
}

export function inputDims(m: ModelManifest): number[] {
  const i = m.input;
  return i.layout === 'NCHW' ? [1, 3, i.height, i.width] : [1, i.height, i.width, 3];
}

/**
 * Runs `fn` until `ms` have passed and at least `minIters` times, stopping on a multiple of
 * `cycle` runs (a whole number of passes over a frame set, so every measurement sees the
 * same mix of frames); `times`, when given, gets each run's ms.
 */
export async function timeFor(ms: number, minIters: number, fn: (i: number) => Promise<void>, times?: { add(ms: number): void }, cycle = 1): Promise<{ n: number; elapsed: number }> {
  const t0 = performance.now();
  let n = 0;
  for (let t = t0; n < minIters || t - t0 < ms || n % cycle !== 0; ) {
    await fn(n++);
    const now = performance.now();
    times?.add(now - t);
    t = now;
  }
  return { n, elapsed: performance.now() - t0 };
}

/** A frame loop bound to one session, with the reused tensor buffer a worker keeps. */
export function frameRunner(s: ort.InferenceSession, m: ModelManifest): (data: Buffer) => Promise<void> {
  const reuse = new Float32Array(m.input.width * m.input.height * 3);
  const dims = inputDims(m);
  return async (data) => {
    const pre = await preprocess(data, 'jpeg', 0, 0, m.input, reuse);
    const out = await s.run({ [m.input.name]: new ort.Tensor('float32', pre.tensor, dims) });
    const outputs: Outputs = {};
    for (const [k, t] of Object.entries(out)) outputs[k] = { data: t.data as Float32Array, dims: t.dims };
    decode(outputs, m, pre.geom);
  };
}
