// The inference pool: N worker threads, one session each. Jobs wait in a bounded queue; a
// worker that crashes fails only its own job and is replaced, and a worker that fails while
// starting stops the pool from respawning in a loop.

import { Worker } from 'node:worker_threads';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Frame, Detection } from '../types.js';
import type { ModelManifest } from '../models/types.js';
import type { Logger } from '../log.js';
import { PerceptError, abortReason } from '../errors.js';
import type { JobMessage, Thresholds, Timings, WorkerFaults, WorkerInit, WorkerMessage } from './protocol.js';
import { Metrics, type Count } from '../metrics.js';
import type { TrackView } from '../events/types.js';

export interface PoolOptions {
  manifest: ModelManifest;
  modelPath: string;
  workers: number;
  threads: number;
  providers: string[];
  /** Jobs that may wait for a worker, beyond one running per worker. */
  queueDepth?: number;
  logger?: Logger;
  faultInjection?: WorkerFaults;
  /** Replacements allowed in a row that die before becoming ready. */
  maxStartFailures?: number;
  /**
   * Jobs a worker holds at once. Two let a worker decode the next frame (on libuv's pool)
   * while its session runs the current one, which keeps both cores busy.
   */
  perWorker?: number;
  /** The agent's metrics registry: jobs and worker restarts are counted there too (default: the pool's own). */
  metrics?: Metrics;
}

export interface InferenceResult {
  source: string;
  seq: number;
  capturedAt: number;
  origin?: string;
  width: number;
  height: number;
  detections: Detection[];
  timings: Timings & { queueMs: number; totalMs: number };
  /** The source's tracks after this frame (set by the pipeline, in capture order). */
  tracks?: TrackView[];
}

export interface PoolStats {
  workers: number;
  ready: number;
  busy: number;
  queued: number;
  provider: string | null;
  fallbacks: string[];
  completed: number;
  failed: number;
  restarts: number;
}

interface Job {
  id: number;
  frame: Frame;
  enqueuedAt: number;
  fault?: JobMessage['fault'];
  thresholds?: Thresholds;
  /** Workers that died while holding this job. */
  crashes: number;
  dispatchedAt: number;
  resolve: (r: InferenceResult) => void;
  reject: (e: PerceptError) => void;
}

interface Slot {
  index: number;
  worker: Worker;
  ready: boolean;
  jobs: Job[];
  startFailed?: boolean;
  exited?: boolean;
}

const WORKER_URL = new URL('./worker.js', import.meta.url);

/** What the pool tells its owner: a worker replaced after a crash (and its exit code), or the pool given up. */
export interface PoolEvents {
  restart: [index: number, code: number];
  fatal: [error: PerceptError];
}

export class InferencePool extends EventEmitter<PoolEvents> {
  readonly #opts: Required<Omit<PoolOptions, 'logger' | 'metrics'>> & { logger?: Logger };
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  readonly #spaceWaiters: Array<{ limit: number; wake: () => void }> = [];
  #nextId = 1;
  #closed = false;
  #startFailures = 0;
  #everReady = false;
  #fatal: PerceptError | null = null;
  #provider: string | null = null;
  #fallbacks: string[] = [];
  /** This pool's own figures (status shows them per model); the registry's series run across pools. */
  #stats = { completed: 0, failed: 0, restarts: 0 };
  readonly #jobs: Count<'result'>;
  readonly #restarts: Count;

  private constructor(opts: PoolOptions) {
    super();
    const { metrics = new Metrics(), ...rest } = opts;
    this.#opts = { queueDepth: opts.workers, faultInjection: false, maxStartFailures: 3, perWorker: 2, ...rest };
    this.#jobs = metrics.counter(
      'percept_inference_jobs_total',
      'Frames through the inference workers, by result: completed, failed (a bad frame or a worker crash)',
      ['result'],
    );
    this.#jobs.zero({ result: 'completed' });
    this.#jobs.zero({ result: 'failed' });
    this.#restarts = metrics.counter('percept_worker_restarts_total', 'Inference workers replaced after a crash');
  }

  #failed(): void {
    this.#stats.failed++;
    this.#jobs.inc(1, { result: 'failed' });
  }

  /** Starts the workers and resolves once every one has its session, or rejects with the first start error. */
  static async start(opts: PoolOptions): Promise<InferencePool> {
    const pool = new InferencePool(opts);
    const ready = Array.from({ length: opts.workers }, (_, i) => pool.#spawn(i));
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  get capacity(): number {
    return this.#slots.length * this.#opts.perWorker + this.#opts.queueDepth;
  }

  /** In flight for a live source: what the workers hold, no queue, so frames stay fresh. */
  get liveCapacity(): number {
    return this.#slots.length * this.#opts.perWorker;
  }

  get inFlight(): number {
    return this.#slots.reduce((n, s) => n + (s?.jobs.length ?? 0), 0) + this.#queue.length;
  }

  stats(): PoolStats {
    return {
      workers: this.#slots.length,
      ready: this.#slots.filter((s) => s.ready).length,
      busy: this.#slots.filter((s) => s.jobs.length).length,
      queued: this.#queue.length,
      provider: this.#provider,
      fallbacks: [...this.#fallbacks],
      ...this.#stats,
    };
  }

  #spawn(index: number): Promise<void> {
    const init: WorkerInit = {
      manifest: this.#opts.manifest,
      modelPath: this.#opts.modelPath,
      providers: this.#opts.providers,
      threads: this.#opts.threads,
      faultInjection: this.#opts.faultInjection,
    };
    const worker = new Worker(WORKER_URL, { workerData: init, env: process.env });
    const slot: Slot = { index, worker, ready: false, jobs: [] };
    this.#slots[index] = slot;
    return new Promise<void>((resolveReady, rejectReady) => {
      worker.on('message', (m: WorkerMessage) => {
        switch (m.type) {
          case 'ready':
            slot.ready = true;
            this.#everReady = true;
            this.#startFailures = 0;
            if (this.#provider === null) {
              this.#provider = m.provider;
              this.#fallbacks = m.fallbacks;
              for (const f of m.fallbacks) this.#opts.logger?.warn({ fallback: f }, `execution provider unavailable, falling back`);
              this.#opts.logger?.info({ provider: m.provider, model: this.#opts.manifest.name }, 'execution provider in use');
            }
            resolveReady();
            this.#pump();
            break;
          case 'startError':
            // The worker leaves by itself; the exit is not a crash to respawn.
            slot.startFailed = true;
            rejectReady(PerceptError.fromJSON(m.error));
            break;
          case 'result':
          case 'jobError':
            this.#finish(slot, m);
            break;
        }
      });
      worker.on('error', (err) => {
        this.#opts.logger?.error({ worker: index, err }, 'inference worker crashed');
        if (!slot.ready) rejectReady(new PerceptError('ERR_WORKER_START', `inference worker failed while starting: ${err.message}`));
      });
      worker.on('exit', (code) => this.#exited(slot, code));
    });
  }

  #exited(slot: Slot, code: number): void {
    slot.exited = true;
    // A job alone in a worker that died is the culprit and fails. When the worker held
    // several, which one killed it is unknown: each runs again alone on another worker, so
    // only the culprit frame is lost.
    const held = slot.jobs.splice(0);
    const retry: Job[] = [];
    for (const job of held) {
      job.crashes++;
      if (held.length === 1 || this.#closed) {
        this.#failed();
        job.reject(
          new PerceptError(
            'ERR_WORKER_CRASHED',
            `inference worker ${slot.index} died (exit code ${code}) while processing frame ${job.frame.source}#${job.frame.seq}; the frame is skipped and the worker replaced`,
          ),
        );
      } else {
        retry.push(job);
      }
    }
    this.#queue.unshift(...retry);
    if (retry.length) queueMicrotask(() => this.#pump());
    if (this.#closed || this.#slots[slot.index] !== slot) return;
    if (!slot.ready) {
      this.#startFailures++;
      // The first start of a pool is all or nothing: start() has already rejected.
      if (slot.startFailed && !this.#everReady) return;
    }
    if (this.#startFailures >= this.#opts.maxStartFailures) {
      this.#fatal = new PerceptError('ERR_WORKER_START', `inference workers keep failing while starting (${this.#startFailures} in a row); not respawning`);
      this.#opts.logger?.error(this.#fatal.message);
      this.#failQueue(this.#fatal);
      this.emit('fatal', this.#fatal);
      return;
    }
    if (slot.ready || this.#startFailures > 0) {
      this.#stats.restarts++;
      this.#restarts.inc();
      this.emit('restart', slot.index, code);
      this.#spawn(slot.index).catch((e: PerceptError) => this.#opts.logger?.error({ err: e }, 'replacement worker failed to start'));
    }
  }

  #finish(slot: Slot, m: Extract<WorkerMessage, { type: 'result' | 'jobError' }>): void {
    const i = slot.jobs.findIndex((j) => j.id === m.id);
    const job = i >= 0 ? slot.jobs.splice(i, 1)[0] : undefined;
    if (m.data && job?.frame.release) job.frame.release(m.data);
    if (job) {
      if (m.type === 'result') {
        this.#stats.completed++;
        this.#jobs.inc(1, { result: 'completed' });
        const now = performance.now();
        job.resolve({
          source: job.frame.source,
          seq: job.frame.seq,
          capturedAt: job.frame.capturedAt,
          origin: job.frame.origin,
          width: m.width,
          height: m.height,
          detections: m.detections,
          timings: { ...m.timings, queueMs: job.dispatchedAt - job.enqueuedAt, totalMs: now - job.enqueuedAt },
        });
      } else {
        this.#failed();
        job.reject(PerceptError.fromJSON(m.error));
      }
    }
    this.#pump();
  }

  #pump(): void {
    while (this.#queue.length) {
      // The least loaded ready worker takes the next job, idle workers first. A job that was
      // in a worker that died runs alone, so if it kills this one too, the blame is certain.
      const suspect = (this.#queue[0]?.crashes ?? 0) > 0;
      let slot: Slot | undefined;
      for (const s of this.#slots) {
        if (!s || !s.ready || s.exited || s.jobs.length >= this.#opts.perWorker) continue;
        if (s.jobs.some((j) => j.crashes > 0) || (suspect && s.jobs.length > 0)) continue;
        if (!slot || s.jobs.length < slot.jobs.length) slot = s;
      }
      if (!slot) break;
      const job = this.#queue.shift()!;
      slot.jobs.push(job);
      job.dispatchedAt = performance.now();
      const buf = job.frame.data;
      // Transfer needs a buffer that owns its memory: exactly, or from its start for a frame
      // whose memory comes back (release); copy otherwise.
      const whole = buf.byteOffset === 0 && buf.buffer instanceof ArrayBuffer && (buf.byteLength === buf.buffer.byteLength || job.frame.release !== undefined);
      const ab = whole ? buf.buffer : buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
      const msg: JobMessage = {
        type: 'job',
        id: job.id,
        format: job.frame.format,
        width: job.frame.width,
        height: job.frame.height,
        data: ab as ArrayBuffer,
        length: buf.byteLength,
        returnData: whole && job.frame.release !== undefined,
        fault: job.fault,
        thresholds: job.thresholds,
      };
      slot.worker.postMessage(msg, [ab as ArrayBuffer]);
    }
    for (let i = 0; i < this.#spaceWaiters.length;) {
      const w = this.#spaceWaiters[i];
      if (w !== undefined && this.inFlight < w.limit) {
        this.#spaceWaiters.splice(i, 1);
        w.wake();
      } else i++;
    }
  }

  /** Resolves when a new job would keep the pool within `limit` (default: its capacity). */
  whenAvailable(signal?: AbortSignal, limit = this.capacity): Promise<void> {
    if (this.inFlight < limit || this.#closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(abortReason(signal));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#spaceWaiters.push({
        limit,
        wake: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      });
    });
  }

  /**
   * Runs one frame. The frame's buffer is transferred: do not use it afterwards. Rejects with
   * ERR_QUEUE_FULL when the pool already holds `capacity` jobs: wait on `whenAvailable` first.
   */
  run(frame: Frame, opts: { fault?: JobMessage['fault']; thresholds?: Thresholds } = {}): Promise<InferenceResult> {
    if (this.#fatal) return Promise.reject(this.#fatal);
    if (this.#closed) return Promise.reject(new PerceptError('ERR_POOL_CLOSED', 'the inference pool is closed'));
    if (this.inFlight >= this.capacity) {
      return Promise.reject(
        new PerceptError('ERR_QUEUE_FULL', `the inference pool holds ${this.inFlight} frames, its capacity; wait for whenAvailable() before run()`),
      );
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({
        id: this.#nextId++,
        frame,
        enqueuedAt: performance.now(),
        fault: opts.fault,
        thresholds: opts.thresholds,
        crashes: 0,
        dispatchedAt: 0,
        resolve,
        reject,
      });
      this.#pump();
    });
  }

  #failQueue(err: PerceptError): void {
    for (const job of this.#queue.splice(0)) job.reject(err);
    while (this.#spaceWaiters.length) this.#spaceWaiters.shift()!.wake();
  }

  /** Waits until every frame given to the pool has finished (up to `graceMs`); the pool stays open. */
  async drain(graceMs = 30_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.whenAvailable(undefined, 1), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
  }

  /** Waits for running jobs (up to `graceMs`), then stops every worker. */
  async close(graceMs = 5000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#failQueue(new PerceptError('ERR_POOL_CLOSED', 'the inference pool is closed'));
    const deadline = Date.now() + graceMs;
    while (this.#slots.some((s) => s?.jobs.length) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    // Ask each worker to release its session and leave; terminate only one that will not.
    await Promise.all(
      this.#slots.filter(Boolean).map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.exited) return resolve();
            const t = setTimeout(() => void s.worker.terminate(), Math.max(1000, deadline - Date.now()));
            s.worker.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            s.worker.postMessage({ type: 'close' });
          }),
      ),
    );
  }
}
