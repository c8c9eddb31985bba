// One whole frame on the calling thread, with the inference worker's own frame work (sharp
// decode and letterbox, tensor into a reused buffer, session.run, decode), and a timed loop
// over it. Shared by the naive main-thread loop and the single-thread worker that measures
// the 2-core bound; it imports what an inference worker imports and nothing more.

import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { frameRunner, tensorLength } from '../inference/frame.js';
import type { ModelManifest } from '../models/types.js';

export async function benchSession(modelPath: string, threads: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
}

/**
 * Runs `fn` until `ms` have passed and at least `minIters` times, stopping on a multiple of
 * `cycle` runs (a whole number of passes over a frame set, so every measurement sees the
 * same mix of frames); `times`, when given, gets each run's ms.
 */
export async function timeFor(
  ms: number,
  minIters: number,
  fn: (i: number) => Promise<void>,
  times?: { add(ms: number): void },
  cycle = 1,
): Promise<{ n: number; elapsed: number }> {
  const t0 = performance.now();
  let n = 0;
  for (let t = t0; n < minIters || t - t0 < ms || n % cycle !== 0;) {
    await fn(n++);
    const now = performance.now();
    times?.add(now - t);
    t = now;
  }
  return { n, elapsed: performance.now() - t0 };
}

/** The worker's frame work bound to one session and one reused tensor buffer, on JPEG frames. */
export function benchFrameRunner(s: ort.InferenceSession, m: ModelManifest): (data: Buffer) => Promise<void> {
  const run = frameRunner(s, m);
  const tensor = new Float32Array(tensorLength(m.input));
  return async (data) => void (await run(data, 'jpeg', 0, 0, tensor));
}
