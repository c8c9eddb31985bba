// The pipeline: opens the model pools and the sources, then for each source pulls a frame
// whenever its pool has room (so live sources hand over their newest frame and file sources
// are paced by the pool), and emits results in capture order per source.

import { EventEmitter } from 'node:events';
import type { Config, ModelRef, SourceConfig } from '../config/schema.js';
import type { Frame } from '../types.js';
import type { Logger } from '../log.js';
import { PerceptError } from '../errors.js';
import { createSource, type FrameSource } from '../capture/index.js';
import { InferencePool, type InferenceResult } from '../inference/pool.js';
import type { Thresholds } from '../inference/protocol.js';
import { loadModel, type LoadedModel } from './model.js';
import { LatencyWindow, RateMeter } from './stats.js';
import { Metrics } from '../metrics.js';
import { pipelineMetrics, type PipelineMetrics, type SourceFollowers } from './metrics.js';

/** This pipeline's own figures (a rebuilt one starts from 0); the registry's series run across pipelines. */
export interface PipelineStatus {
  running: boolean;
  sources: Array<{ id: string; kind: string; live: boolean; open: boolean; captured: number; dropped: number; corrupt: number; restarts: number; inferred: number; failed: number; backend?: 'native' | 'ffmpeg'; backendReason?: string }>;
  models: Array<{ name: string; version: string; sha256: string; provider: string | null; fallbacks: string[]; workers: number; restarts: number }>;
  frames: { inferred: number; failed: number; corrupt: number };
  fps: number;
  latencyMs: { p50: number; p99: number; mean: number };
  stagesMs: { queue: number; preprocess: number; inference: number; decode: number };
  lastResultAt: number | null;
}

interface SourceRun {
  cfg: SourceConfig;
  source: FrameSource;
  pool: InferencePool;
  model: LoadedModel;
  open: boolean;
  inferred: number;
  failed: number;
  corrupt: number;
  /** Results waiting for an earlier frame of the same source. */
  pending: Map<number, InferenceResult | null>;
  /** Sequence numbers of frames now in the pool. */
  inflight: Set<number>;
  done: Promise<void>;
  /** Feed the source's own counts into the registry's series. */
  followers: SourceFollowers;
}

/** A processed frame with its encoded bytes, for previews and snapshots. */
export interface TappedFrame {
  data: Buffer;
  format: Frame['format'];
  result: InferenceResult;
  model: LoadedModel;
}

export interface PipelineEvents {
  result: [InferenceResult, LoadedModel];
  /** Emitted only while someone listens: the frame bytes are copied just for them. */
  frame: [TappedFrame];
  frameError: [PerceptError, { source: string; seq: number }];
  end: [];
}

export class Pipeline extends EventEmitter<PipelineEvents> {
  readonly #cfg: Config;
  readonly #log: Logger;
  readonly #pools = new Map<string, { pool: InferencePool; model: LoadedModel }>();
  readonly #runs: SourceRun[] = [];
  readonly #abort = new AbortController();
  readonly #latency = new LatencyWindow();
  readonly #stages = { queue: new LatencyWindow(256), preprocess: new LatencyWindow(256), inference: new LatencyWindow(256), decode: new LatencyWindow(256) };
  readonly #rate = new RateMeter();
  #emitted = 0;
  #running = false;
  #lastResultAt: number | null = null;
  #stopping: Promise<void> | null = null;
  readonly #faultInjection: boolean;
  #thresholds: Thresholds | undefined;
  readonly #metrics: Metrics;
  readonly #m: PipelineMetrics;
  #unhook: () => void = () => undefined;

  /**
   * Changes the default model's score and NMS thresholds (for the sources without a model of
   * their own) from the next frame on, without restarting workers.
   */
  setThresholds(t: Thresholds | undefined): void {
    this.#thresholds = t;
  }

  /** The thresholds a source's frames are decoded with: its own model's, else the default's. */
  #thresholdsOf(cfg: SourceConfig): Thresholds {
    if (cfg.model) return { scoreThreshold: cfg.model.scoreThreshold, iou: cfg.model.iou };
    return this.#thresholds ?? { scoreThreshold: this.#cfg.model.scoreThreshold, iou: this.#cfg.model.iou };
  }

  /** `metrics`: the agent's registry, where a rebuilt pipeline continues the same series (default: its own). */
  constructor(cfg: Config, opts: { logger: Logger; faultInjection?: boolean; metrics?: Metrics }) {
    super();
    this.#cfg = cfg;
    this.#log = opts.logger;
    this.#faultInjection = opts.faultInjection ?? false;
    this.#metrics = opts.metrics ?? new Metrics();
    this.#m = pipelineMetrics(this.#metrics);
  }

  /** The registry this pipeline counts in (the preview renders it when given no other). */
  get metrics(): Metrics {
    return this.#metrics;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /**
   * Sets a camera source's controls live (no reopen). Throws ERR_CAMERA_CONTROL when the source
   * cannot take them (unknown key, value out of range, or a source without native controls).
   */
  setControls(sourceId: string, controls: Record<string, number>): void {
    const run = this.#runs.find((r) => r.cfg.id === sourceId);
    if (!run) return;
    if (!run.source.setControls) {
      throw new PerceptError('ERR_CAMERA_CONTROL', `source '${sourceId}': controls are set only on webcams read by the native backend (this one is ${run.source.backend ? `read through ${run.source.backend}` : `a ${run.cfg.kind} source`})`);
    }
    run.source.setControls(controls);
  }

  /** A camera source's current control values by key, or null for a source without controls. */
  readControls(sourceId: string): Record<string, number> | null {
    return this.#runs.find((r) => r.cfg.id === sourceId)?.source.readControls?.() ?? null;
  }

  /** Loads models and starts workers, then opens sources. Throws when nothing can run. */
  async start(): Promise<void> {
    // One pool per model file: thresholds are the sources' own and travel with each frame.
    const refs = new Map<string, ModelRef>();
    const keyOf = (m: ModelRef) => `${m.name}|${m.path ?? ''}`;
    for (const s of this.#cfg.sources) refs.set(keyOf(s.model ?? this.#cfg.model), s.model ?? this.#cfg.model);
    try {
      for (const [key, ref] of refs) {
        const model = await loadModel(ref, this.#cfg);
        const pool = await InferencePool.start({
          manifest: model.manifest,
          modelPath: model.path,
          workers: this.#cfg.workers,
          threads: this.#cfg.threads,
          providers: this.#cfg.providers,
          logger: this.#log,
          faultInjection: this.#faultInjection,
          metrics: this.#metrics,
        });
        pool.on('fatal', (e: PerceptError) => {
          this.#log.error({ code: e.code }, e.message);
          void this.stop();
        });
        this.#pools.set(key, { pool, model });
        this.#log.info({ model: model.manifest.name, version: model.manifest.version, sha256: model.sha256.slice(0, 12), workers: this.#cfg.workers, threads: this.#cfg.threads }, 'model loaded');
      }
    } catch (e) {
      await this.#closePools();
      throw e;
    }
    const failures: Array<{ id: string; error: unknown }> = [];
    for (const cfg of this.#cfg.sources) {
      const { pool, model } = this.#pools.get(keyOf(cfg.model ?? this.#cfg.model))!;
      const source = createSource(cfg, { logger: this.#log });
      const run: SourceRun = { cfg, source, pool, model, open: false, inferred: 0, failed: 0, corrupt: 0, pending: new Map(), inflight: new Set(), done: Promise.resolve(), followers: this.#m.follow() };
      try {
        await source.open();
        run.open = true;
        this.#log.info({ source: cfg.id, kind: cfg.kind, uri: cfg.uri || undefined, live: source.live, backend: source.backend, backendReason: source.backendReason }, 'source open');
      } catch (e) {
        failures.push({ id: cfg.id, error: e });
        continue;
      }
      this.#runs.push(run);
    }
    if (this.#runs.length === 0) {
      await this.#closePools();
      // Thrown, not logged: the caller prints it once.
      if (failures.length === 1) throw failures[0]?.error;
      throw new PerceptError('ERR_SOURCE_UNREADABLE', failures.map((f) => (f.error as Error).message).join('\n') || 'no source could be opened');
    }
    // The others run; the ones that cannot are said once, here.
    for (const f of failures) this.#log.error({ source: f.id, code: (f.error as PerceptError).code }, (f.error as Error).message);
    this.#running = true;
    this.#unhook = this.#metrics.onCollect(() => this.#syncSources());
    for (const run of this.#runs) run.done = this.#loop(run);
    void Promise.all(this.#runs.map((r) => r.done)).then(() => {
      if (this.#running) void this.stop().then(() => this.emit('end'));
    });
  }

  async #loop(run: SourceRun): Promise<void> {
    const signal = this.#abort.signal;
    const inflight = new Set<Promise<void>>();
    try {
      for (;;) {
        // A live source hands over a frame only when a worker can take it, so frames stay
        // fresh; a lossless source may also fill the pool's queue.
        await run.pool.whenAvailable(signal, run.source.live ? run.pool.liveCapacity : undefined);
        const frame = await run.source.next(signal);
        if (!frame) break;
        const { seq, origin } = frame;
        run.inflight.add(seq);
        // The frame's buffer moves to a worker; keep a copy only when a tap wants it.
        const kept = this.listenerCount('frame') > 0 ? { data: Buffer.from(frame.data), format: frame.format } : null;
        const p = run.pool
          .run(frame, { thresholds: this.#thresholdsOf(run.cfg) })
          .then(
            (r) => {
              if (kept) this.emit('frame', { ...kept, result: r, model: run.model });
              this.#deliver(run, seq, r);
            },
            (err: unknown) => {
              const e = PerceptError.is(err) ? err : new PerceptError('ERR_WORKER_CRASHED', String((err as Error)?.message ?? err));
              // A frame that is not an image is counted once, as corrupt, not also as failed.
              if (e.code === 'ERR_FRAME_CORRUPT') {
                run.corrupt++;
                this.#m.dropped.inc(1, { reason: 'corrupt' });
              } else {
                run.failed++;
                this.#m.dropped.inc(1, { reason: 'failed' });
              }
              if (e.code !== 'ERR_POOL_CLOSED') {
                this.#log.warn({ source: run.cfg.id, seq, origin, code: e.code }, `source '${run.cfg.id}' frame ${seq}${origin ? ` (${origin})` : ''}: ${e.message}`);
                this.emit('frameError', e, { source: run.cfg.id, seq });
              }
              this.#deliver(run, seq, null);
            },
          )
          .finally(() => inflight.delete(p));
        inflight.add(p);
      }
    } catch (e) {
      if (!signal.aborted) throw e;
    }
    await Promise.all(inflight);
  }

  /**
   * Emits results of one source in capture order: a result waits only while an earlier frame
   * of the same source is still in a worker. Failed and dropped frames leave gaps, skipped.
   */
  #deliver(run: SourceRun, seq: number, r: InferenceResult | null): void {
    run.inflight.delete(seq);
    run.pending.set(seq, r);
    while (run.pending.size) {
      let lowest = Infinity;
      for (const k of run.pending.keys()) if (k < lowest) lowest = k;
      for (const k of run.inflight) if (k < lowest) return;
      const res = run.pending.get(lowest);
      run.pending.delete(lowest);
      if (res) this.#emitResult(run, res);
    }
  }

  #emitResult(run: SourceRun, r: InferenceResult): void {
    if (this.#cfg.frames !== undefined && this.#emitted >= this.#cfg.frames) return;
    run.inferred++;
    this.#m.inferred.inc();
    this.#emitted++;
    this.#lastResultAt = Date.now();
    this.#rate.mark();
    this.#latency.add(r.timings.totalMs);
    this.#stages.queue.add(r.timings.queueMs);
    this.#stages.preprocess.add(r.timings.preprocessMs);
    this.#stages.inference.add(r.timings.inferenceMs);
    this.#stages.decode.add(r.timings.decodeMs);
    this.emit('result', r, run.model);
    if (this.#cfg.frames !== undefined && this.#emitted >= this.#cfg.frames) void this.stop().then(() => this.emit('end'));
  }

  /** Brings the registry's capture series up to the sources' own counts. */
  #syncSources(): void {
    for (const r of this.#runs) r.followers.update(r.source.stats);
  }

  status(): PipelineStatus {
    const inferred = this.#runs.reduce((a, r) => a + r.inferred, 0);
    const failed = this.#runs.reduce((a, r) => a + r.failed, 0);
    const corrupt = this.#runs.reduce((a, r) => a + r.corrupt, 0);
    return {
      running: this.#running,
      sources: this.#runs.map((r) => ({ id: r.cfg.id, kind: r.cfg.kind, live: r.source.live, open: r.open, ...r.source.stats, inferred: r.inferred, failed: r.failed, corrupt: r.source.stats.corrupt + r.corrupt, backend: r.source.backend, backendReason: r.source.backendReason })),
      models: [...this.#pools.values()].map(({ pool, model }) => {
        const s = pool.stats();
        return { name: model.manifest.name, version: model.manifest.version, sha256: model.sha256, provider: s.provider, fallbacks: s.fallbacks, workers: s.workers, restarts: s.restarts };
      }),
      frames: { inferred, failed, corrupt },
      fps: this.#rate.rate(),
      latencyMs: { p50: this.#latency.percentile(50), p99: this.#latency.percentile(99), mean: this.#latency.mean() },
      stagesMs: { queue: this.#stages.queue.mean(), preprocess: this.#stages.preprocess.mean(), inference: this.#stages.inference.mean(), decode: this.#stages.decode.mean() },
      lastResultAt: this.#lastResultAt,
    };
  }

  /** Stops pulling frames, lets running jobs finish, closes sources and workers. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#running = false;
      this.#abort.abort(new PerceptError('ERR_POOL_CLOSED', 'pipeline stopping'));
      await Promise.all(this.#runs.map((r) => r.source.close().catch(() => undefined)));
      await Promise.all(this.#runs.map((r) => r.done.catch(() => undefined)));
      await this.#closePools();
      // The last counts of the sources stay in the series a next pipeline continues.
      this.#syncSources();
      this.#unhook();
    })();
    return this.#stopping;
  }

  async #closePools(): Promise<void> {
    await Promise.all([...this.#pools.values()].map(({ pool }) => pool.close()));
  }
}
