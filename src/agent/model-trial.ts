// The trial of a model package just swapped in: its first frames and its inference workers are
// watched, and 5 failed frames in a row or any exit of one of its workers (even one whose frames
// were retried on another worker) fails it at once. Other models' frames and workers have no say.

import fs from 'node:fs';
import path from 'node:path';
import { PerceptError } from '../errors.js';
import type { LoadedModel } from '../pipeline/model.js';
import type { Pipeline } from '../pipeline/pipeline.js';

/** Frames that may fail in a row, and how long a new model is watched for a worker crash. */
export const TRIAL_FAILURES = 5;
export const TRIAL_MS = 30_000;

/** Paths as the file system resolves them (the state folder may be reached through a link). */
function real(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/**
 * Watches the models loaded from `modelDir` in `p` for `ms` (TRIAL_MS, or what is left of it): `fail` is called once with
 * ERR_PACKAGE_ROLLED_BACK and why, or `pass` when the time is up. Returns a function that ends
 * the watch without either.
 */
export function watchTrial(p: Pipeline, modelDir: string, on: { fail(why: PerceptError): void; pass(): void }, ms = TRIAL_MS): () => void {
  const dir = real(modelDir) + path.sep;
  const seen = new WeakMap<LoadedModel, boolean>();
  const isNew = (m: LoadedModel) => {
    let v = seen.get(m);
    if (v === undefined) seen.set(m, (v = real(m.path).startsWith(dir)));
    return v;
  };
  let inARow = 0;
  const onResult = (_r: unknown, m: LoadedModel) => {
    if (isNew(m)) inARow = 0;
  };
  const onError = (e: PerceptError, at: { model: LoadedModel }) => {
    if (!isNew(at.model) || e.code === 'ERR_FRAME_CORRUPT' || e.code === 'ERR_POOL_CLOSED') return;
    inARow++;
    if (e.code === 'ERR_WORKER_CRASHED')
      stop(new PerceptError('ERR_PACKAGE_ROLLED_BACK', `a worker crashed on the new model in its first ${TRIAL_MS / 1000} s: ${e.message}`));
    else if (inARow >= TRIAL_FAILURES)
      stop(new PerceptError('ERR_PACKAGE_ROLLED_BACK', `the new model failed ${TRIAL_FAILURES} frames in a row (${e.code}: ${e.message})`));
  };
  const crashed = (code: number | null) =>
    new PerceptError(
      'ERR_PACKAGE_ROLLED_BACK',
      `an inference worker running the new model died${code === null ? '' : ` (exit code ${code})`} in its first ${TRIAL_MS / 1000} s`,
    );
  const onExit = (m: LoadedModel, code: number) => {
    if (isNew(m)) stop(crashed(code));
  };
  const off = () => {
    p.off('result', onResult);
    p.off('frameError', onError);
    p.off('workerExit', onExit);
    clearTimeout(timer);
  };
  const stop = (why: PerceptError) => {
    off();
    on.fail(why);
  };
  p.on('result', onResult);
  p.on('frameError', onError);
  p.on('workerExit', onExit);
  const timer = setTimeout(() => {
    off();
    on.pass();
  }, ms);
  timer.unref();
  // A worker that died between the swap and this watch counts too.
  if (p.workerRestarts(isNew) > 0) stop(crashed(null));
  return off;
}
