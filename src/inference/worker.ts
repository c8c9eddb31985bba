// Inside one inference worker thread: one ONNX Runtime session; for each job, preprocess
// with sharp, run, decode to detections. Nothing here blocks the main thread.

import { parentPort, workerData } from 'node:worker_threads';
import sharp from 'sharp';
import type * as ort from 'onnxruntime-node';
import { createSession } from './session.js';
import { frameRunner, tensorLength } from './frame.js';
import type { JobMessage, Thresholds, WorkerInit, WorkerMessage } from './protocol.js';
import { checkAgainstSession } from '../models/session-check.js';
import type { ModelManifest } from '../models/types.js';
import { PerceptError } from '../errors.js';

// One libvips thread per worker: the pool, not sharp, spreads work across cores.
sharp.concurrency(1);
sharp.cache(false);

const init = workerData as WorkerInit;
const port = parentPort!;
const post = (m: WorkerMessage, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer ?? []);

/** The job's frame memory, to go back with its answer when its source reuses it (decoding is over). */
const returned = (job: JobMessage): ArrayBuffer | undefined => (job.returnData && job.data.byteLength > 0 ? job.data : undefined);

function errorOf(e: unknown, fallback: PerceptError['code']): { code: PerceptError['code']; message: string } {
  if (PerceptError.is(e)) return e.toJSON();
  return { code: fallback, message: (e as Error)?.message ?? String(e) };
}

// Close requests may arrive while the session is still being created: the worker always
// leaves by itself after releasing its session, because terminating a thread inside
// onnxruntime's native code aborts the whole process.
let closing = false;
let session: ort.InferenceSession | null = null;
const leave = async () => {
  await session?.release().catch(() => undefined);
  session = null;
  port.close();
};
port.on('message', (m: { type: string }) => {
  if (m.type !== 'close') return;
  closing = true;
  if (busy === 0) void leave();
});
/** Jobs under way (the pool may hand a worker two at once), or -1 while starting. */
let busy = -1;

// Manifests with overridden thresholds, built once per distinct override (sources' own, and
// each live change from the twin: the cache starts over past a few dozen).
const overridden = new Map<string, ModelManifest>();
function manifestFor(t: Thresholds | undefined): ModelManifest {
  if (!t || (t.scoreThreshold === undefined && t.iou === undefined)) return init.manifest;
  const key = `${t.scoreThreshold}|${t.iou}`;
  let m = overridden.get(key);
  if (!m) {
    const decoder = { ...init.manifest.decoder };
    if (t.scoreThreshold !== undefined) decoder.scoreThreshold = t.scoreThreshold;
    if (t.iou !== undefined && 'nms' in decoder) decoder.nms = { ...decoder.nms, iou: t.iou };
    m = { ...init.manifest, decoder };
    if (overridden.size >= 64) overridden.clear();
    overridden.set(key, m);
  }
  return m;
}

async function main(): Promise<void> {
  try {
    const r = await createSession(init.modelPath, init.providers, init.threads);
    session = r.session;
    checkAgainstSession(init.manifest, [...r.session.inputNames], [...r.session.outputNames], r.session.inputMetadata, r.session.outputMetadata);
    post({ type: 'ready', provider: r.provider, fallbacks: r.fallbacks, inputNames: [...r.session.inputNames], outputNames: [...r.session.outputNames] });
    if (typeof init.faultInjection === 'object') setTimeout(() => process.exit(4), init.faultInjection.exitAfterMs).unref();
  } catch (e) {
    post({ type: 'startError', error: errorOf(e, 'ERR_WORKER_START') });
    await leave();
    return;
  }
  busy = 0;
  if (closing) return leave();
  const runFrame = frameRunner(session, init.manifest);
  // Tensor buffers are reused: a fresh 2 MB array per frame would keep the garbage collector
  // busy. One per job under way.
  const free: Float32Array[] = [];

  // Settles every job it is given (a failure is a jobError), so it never rejects.
  const runJob = async (job: JobMessage): Promise<void> => {
    busy++;
    const tensorBuffer = free.pop() ?? new Float32Array(tensorLength(init.manifest.input));
    try {
      const r = await runFrame(Buffer.from(job.data, 0, job.length), job.format, job.width, job.height, tensorBuffer, manifestFor(job.thresholds));
      const data = returned(job);
      post({ type: 'result', id: job.id, ...r, ...(data ? { data } : {}) }, data && [data]);
    } catch (e) {
      const data = returned(job);
      post({ type: 'jobError', id: job.id, error: errorOf(e, 'ERR_DECODE'), ...(data ? { data } : {}) }, data && [data]);
    } finally {
      free.push(tensorBuffer);
      busy--;
      if (closing && busy === 0) void leave();
    }
  };

  port.on('message', (job: JobMessage) => {
    if (job.type !== 'job' || closing) return;
    if (init.faultInjection && job.fault === 'throw') throw new Error('injected worker fault');
    if (init.faultInjection && job.fault === 'exit') process.exit(3);
    void runJob(job);
  });
}

void main();
