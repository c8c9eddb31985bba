// The pipeline: opens the model pools and the sources, then for each source pulls a frame
// whenever its pool has room (so live sources hand over their newest frame and file sources
// are paced by the pool), and emits results in capture order per source. A source's motion
// gate (src/events/gate.ts) sits between its capture and the pool: frames it turns away never
// reach the model and are counted as skipped.

import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config, ModelRef, SourceConfig } from '../config/schema.js';
import type { Frame } from '../types.js';
import type { Logger } from '../log.js';
import { PerceptError } from '../errors.js';
import { createSource, type FrameSource } from '../capture/index.js';
import { InferencePool, type InferenceResult } from '../inference/pool.js';
import type { Thresholds, WorkerFaults } from '../inference/protocol.js';
import { loadModel, type LoadedModel } from './model.js';
import { LatencyWindow, RateMeter } from './stats.js';
import { Metrics } from '../metrics.js';
import { pipelineMetrics, type PipelineMetrics, type SourceFollowers } from './metrics.js';
import { MotionGate, gateOptions } from '../events/gate.js';
import { probeFps } from '../capture/probe.js';
import { EventStore } from '../events/store.js';
import { SourceEvents, type EventSettings } from '../events/source-events.js';
import { eventMetrics, type EventMetrics } from '../events/metrics.js';
import type { FrameBytes } from '../events/snapshot.js';
import type { EventReader, LineCount, PerceptEvent, ZoneCount } from '../events/types.js';

/** Sources with the same model file share one pool. */
const keyOf = (m: ModelRef) => `${m.name}|${m.path ?? ''}`;

/** This pipeline's own figures (a rebuilt one starts from 0); the registry's series run across pipelines. */
export interface PipelineStatus {
  running: boolean;
  sources: Array<{
    id: string;
    kind: string;
    live: boolean;
    open: boolean;
    captured: number;
    dropped: number;
    corrupt: number;
    restarts: number;
    inferred: number;
    failed: number;
    skipped: number;
    motion: boolean | null;
    backend?: 'native' | 'ffmpeg';
    backendReason?: string;
  }>;
  models: Array<{ name: string; version: string; sha256: string; provider: string | null; fallbacks: string[]; workers: number; restarts: number }>;
  /** `skipped`: frames the motion gate kept from the model (no motion, no live track, no keyframe due). */
  frames: { inferred: number; failed: number; corrupt: number; skipped: number };
  fps: number;
  latencyMs: { p50: number; p99: number; mean: number };
  stagesMs: { queue: number; preprocess: number; inference: number; decode: number };
  lastResultAt: number | null;
  /** When the motion gate last judged a frame not worth inferring: the pipeline is alive, the scene still. */
  lastSkippedAt: number | null;
  /** Entries, exits and presence per zone, and crossings per line, since this pipeline started. */
  zones: ZoneCount[];
  lines: LineCount[];
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
  /** Frames the motion gate kept from the model. */
  skipped: number;
  gate: MotionGate;
  /** Results waiting for an earlier frame of the same source, with the model that made them. */
  pending: Map<number, { result: InferenceResult; model: LoadedModel } | null>;
  /** Sequence numbers of frames now in the pool. */
  inflight: Set<number>;
  done: Promise<void>;
  /** Feed the source's own counts into the registry's series. */
  followers: SourceFollowers;
  /** Tracks, zones and events of this source. */
  events: SourceEvents;
  /** Bytes of the frames in flight, for the snapshot a result may pick. */
  frames: Map<number, FrameBytes>;
  /** Whether a track still moves on this source (the motion gate infers while one does). */
  hasLiveTracks: () => boolean;
  /** Captured count and time at the last measurement of a live source's rate. */
  rate: { at: number; captured: number };
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
  frameError: [PerceptError, { source: string; seq: number; model: LoadedModel }];
  /** A worker of this model's pool died (exit code) and is being replaced; its frames are retried. */
  workerExit: [LoadedModel, number];
  /** A track's new, update or end (in capture order per source). */
  event: [PerceptEvent];
  end: [];
}

/** A live source's frame rate is measured over this long before the tracker counts in it. */
const RATE_WINDOW_MS = 2000;

/** The tracker's and zones' settings for one source. */
export function eventSettings(cfg: Config, source: SourceConfig): EventSettings {
  const t = cfg.tracker;
  return {
    tracker: { highScore: t.highScore, matchIou: t.matchIou, timeoutSeconds: t.timeoutSeconds, stationarySeconds: t.stationarySeconds },
    lifecycle: { threshold: t.threshold, labelThresholds: cfg.labelThresholds, updateIntervalMs: 1000 },
    zones: source.zones ?? [],
    lines: source.lines ?? [],
  };
}

export class Pipeline extends EventEmitter<PipelineEvents> {
  #cfg: Config;
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
  #lastSkippedAt: number | null = null;
  #stopping: Promise<void> | null = null;
  readonly #faultInjection: boolean | ((model: LoadedModel) => WorkerFaults);
  #thresholds: Thresholds | undefined;
  readonly #metrics: Metrics;
  readonly #m: PipelineMetrics;
  #unhook: () => void = () => undefined;
  readonly #eventDir: string | undefined;
  #store: EventStore | null = null;
  readonly #em: EventMetrics;

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
  /** `eventDir`: where the event store keeps snapshots (without it, a temporary folder removed at stop). */
  /** `faultInjection` (tests only): worker faults for every pool, or per model. */
  constructor(cfg: Config, opts: { logger: Logger; faultInjection?: boolean | ((model: LoadedModel) => WorkerFaults); metrics?: Metrics; eventDir?: string }) {
    super();
    this.#cfg = cfg;
    this.#log = opts.logger;
    this.#faultInjection = opts.faultInjection ?? false;
    this.#metrics = opts.metrics ?? new Metrics();
    this.#m = pipelineMetrics(this.#metrics);
    this.#em = eventMetrics(this.#metrics);
    this.#eventDir = opts.eventDir;
  }

  /** Recent events and their snapshots (empty until the pipeline starts). */
  get events(): EventReader {
    return this.#store ?? { list: () => [], snapshot: () => Promise.resolve(null) };
  }

  zoneCounts(): ZoneCount[] {
    return this.#runs.flatMap((r) => r.events.zoneCounts());
  }

  lineCounts(): LineCount[] {
    return this.#runs.flatMap((r) => r.events.lineCounts());
  }

  /** New tracker settings, zones and lines from the next frame on (no restart). */
  configureEvents(cfg: Config): void {
    for (const run of this.#runs) {
      const s = cfg.sources.find((x) => x.id === run.cfg.id);
      if (s) run.events.configure(eventSettings(cfg, s));
    }
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
      throw new PerceptError(
        'ERR_CAMERA_CONTROL',
        `source '${sourceId}': controls are set only on webcams read by the native backend (this one is ${run.source.backend ? `read through ${run.source.backend}` : `a ${run.cfg.kind} source`})`,
      );
    }
    run.source.setControls(controls);
  }

  /** A camera source's current control values by key, or null for a source without controls. */
  readControls(sourceId: string): Record<string, number> | null {
    return this.#runs.find((r) => r.cfg.id === sourceId)?.source.readControls?.() ?? null;
  }

  /** Loads a model and starts its workers; a worker that dies for good stops the pipeline. */
  async #openPool(ref: ModelRef): Promise<{ pool: InferencePool; model: LoadedModel }> {
    const model = await loadModel(ref, this.#cfg);
    const pool = await InferencePool.start({
      manifest: model.manifest,
      modelPath: model.path,
      workers: this.#cfg.workers,
      threads: this.#cfg.threads,
      providers: this.#cfg.providers,
      logger: this.#log,
      faultInjection: typeof this.#faultInjection === 'function' ? this.#faultInjection(model) : this.#faultInjection,
      metrics: this.#metrics,
    });
    // A pool already swapped out has no say over the pipeline.
    const current = () => [...this.#pools.values()].some((p) => p.pool === pool);
    pool.on('restart', (_index, code) => {
      if (current()) this.emit('workerExit', model, code);
    });
    pool.on('fatal', (e: PerceptError) => {
      if (!current()) return;
      this.#log.error({ code: e.code }, e.message);
      void this.stop();
    });
    this.#log.info(
      {
        model: model.manifest.name,
        version: model.manifest.version,
        sha256: model.sha256.slice(0, 12),
        workers: this.#cfg.workers,
        threads: this.#cfg.threads,
      },
      'model loaded',
    );
    return { pool, model };
  }

  /**
   * Replaces the default model (the one of every source without a model of its own) without
   * stopping capture: the new model loads in a pool of its own and must run a frame; only then
   * do new frames go to it, while frames already in the old pool finish there before it closes.
   * Throws (and the old model keeps running) when the new one cannot load or run.
   */
  async swapModel(ref: ModelRef): Promise<void> {
    if (!this.#running) throw new PerceptError('ERR_POOL_CLOSED', 'the pipeline is not running');
    const oldKey = keyOf(this.#cfg.model);
    const next = await this.#openPool(ref);
    try {
      const w = Math.max(64, next.model.manifest.input.width);
      const h = Math.max(64, next.model.manifest.input.height);
      await next.pool.run(
        { source: 'model-swap', seq: 1, capturedAt: Date.now(), width: w, height: h, format: 'rgb24', data: Buffer.alloc(w * h * 3, 114) },
        {},
      );
    } catch (e) {
      await next.pool.close();
      throw e;
    }
    if (!this.#running) {
      await next.pool.close();
      throw new PerceptError('ERR_POOL_CLOSED', 'the pipeline stopped during the model swap');
    }
    const old = this.#pools.get(oldKey);
    const newKey = keyOf(ref);
    // A source whose own model is the new one already has a pool: the default's sources join it.
    const target = newKey !== oldKey ? (this.#pools.get(newKey) ?? next) : next;
    if (target !== next) await next.pool.close();
    this.#pools.set(newKey, target);
    this.#cfg = { ...this.#cfg, model: ref };
    // The new default model's thresholds are its reference's (or its manifest's).
    this.#thresholds = undefined;
    for (const r of this.#runs) if (!r.cfg.model) Object.assign(r, target);
    if (old && old.pool !== target.pool && !this.#runs.some((r) => r.pool === old.pool)) {
      if (this.#pools.get(oldKey) === old) this.#pools.delete(oldKey);
      // Frames already given to the old model finish there (and are emitted in order) first.
      await old.pool.drain();
      await old.pool.close();
    }
    this.#log.info({ model: ref.name, from: old?.model.manifest.name }, 'model swapped');
  }

  /** Loads models and starts workers, then opens sources. Throws when nothing can run. */
  async start(): Promise<void> {
    // One pool per model file: thresholds are the sources' own and travel with each frame.
    const refs = new Map<string, ModelRef>();
    for (const s of this.#cfg.sources) refs.set(keyOf(s.model ?? this.#cfg.model), s.model ?? this.#cfg.model);
    try {
      for (const [key, ref] of refs) this.#pools.set(key, await this.#openPool(ref));
    } catch (e) {
      await this.#closePools();
      throw e;
    }
    let store: EventStore;
    try {
      store = this.#openStore();
    } catch (e) {
      await this.#closePools();
      throw e;
    }
    this.#store = store;
    const failures: Array<{ id: string; error: unknown }> = [];
    for (const cfg of this.#cfg.sources) {
      const { pool, model } = this.#pools.get(keyOf(cfg.model ?? this.#cfg.model))!;
      const source = createSource(cfg, { logger: this.#log });
      const events = new SourceEvents({
        source: cfg.id,
        live: source.live,
        fps: (cfg.kind === 'video' ? await probeFps(cfg.uri) : null) ?? cfg.fps ?? (cfg.kind === 'image' || cfg.kind === 'folder' ? 1 : 15),
        settings: eventSettings(this.#cfg, cfg),
        store,
        emit: (e) => {
          this.#em.event(e.type);
          this.emit('event', e);
        },
        logger: this.#log,
      });
      const run: SourceRun = {
        cfg,
        source,
        pool,
        model,
        open: false,
        inferred: 0,
        failed: 0,
        corrupt: 0,
        skipped: 0,
        gate: new MotionGate(gateOptions(this.#cfg, cfg)),
        pending: new Map(),
        inflight: new Set(),
        done: Promise.resolve(),
        followers: this.#m.follow(),
        events,
        frames: new Map(),
        hasLiveTracks: () => events.hasLiveTracks(),
        rate: { at: 0, captured: 0 },
      };
      try {
        await source.open();
        run.open = true;
        this.#log.info(
          { source: cfg.id, kind: cfg.kind, uri: cfg.uri || undefined, live: source.live, backend: source.backend, backendReason: source.backendReason },
          'source open',
        );
      } catch (e) {
        failures.push({ id: cfg.id, error: e });
        continue;
      }
      this.#runs.push(run);
    }
    if (this.#runs.length === 0) {
      await this.#closePools();
      await this.#closeStore();
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
        if (run.gate.enabled && !(await run.gate.admit(frame, run.hasLiveTracks())).infer) {
          run.skipped++;
          this.#lastSkippedAt = Date.now();
          this.#m.skipped.inc(1, { reason: 'no_motion' });
          continue;
        }
        const { seq, origin } = frame;
        // A model swap moves the run to a new pool between frames; this frame stays with the one it went to.
        const model = run.model;
        run.inflight.add(seq);
        // The frame's buffer moves to a worker; a copy stays for a tap and for the snapshot this
        // frame may become (dropped after its result unless it is some track's best frame).
        const copy = Buffer.from(frame.data);
        run.frames.set(seq, { data: copy, format: frame.format, width: frame.width, height: frame.height });
        const kept = this.listenerCount('frame') > 0 ? { data: copy, format: frame.format } : null;
        const p = run.pool
          .run(frame, { thresholds: this.#thresholdsOf(run.cfg) })
          .then(
            (r) => {
              if (kept) this.emit('frame', { ...kept, result: r, model });
              this.#deliver(run, seq, r, model);
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
                this.#log.warn(
                  { source: run.cfg.id, seq, origin, code: e.code },
                  `source '${run.cfg.id}' frame ${seq}${origin ? ` (${origin})` : ''}: ${e.message}`,
                );
                this.emit('frameError', e, { source: run.cfg.id, seq, model });
              }
              this.#deliver(run, seq, null, model);
            },
          )
          .finally(() => inflight.delete(p));
        inflight.add(p);
      }
    } catch (e) {
      if (!signal.aborted) throw e;
    } finally {
      await Promise.all(inflight);
      // The end of a source (or of the pipeline) ends its tracks.
      await run.events.end();
    }
  }

  /**
   * Emits results of one source in capture order: a result waits only while an earlier frame
   * of the same source is still in a worker. Failed and dropped frames leave gaps, skipped.
   */
  #deliver(run: SourceRun, seq: number, r: InferenceResult | null, model: LoadedModel): void {
    run.inflight.delete(seq);
    run.pending.set(seq, r ? { result: r, model } : null);
    while (run.pending.size) {
      let lowest = Infinity;
      for (const k of run.pending.keys()) if (k < lowest) lowest = k;
      for (const k of run.inflight) if (k < lowest) return;
      const res = run.pending.get(lowest);
      run.pending.delete(lowest);
      const bytes = run.frames.get(lowest) ?? null;
      run.frames.delete(lowest);
      if (res) this.#emitResult(run, res.result, res.model, bytes);
    }
  }

  #emitResult(run: SourceRun, r: InferenceResult, model: LoadedModel, bytes: FrameBytes | null): void {
    if (this.#cfg.frames !== undefined && this.#emitted >= this.#cfg.frames) return;
    if (run.source.live) this.#measureRate(run, r.capturedAt);
    r.tracks = run.events.onResult(r, bytes);
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
    this.emit('result', r, model);
    if (this.#cfg.frames !== undefined && this.#emitted >= this.#cfg.frames) void this.stop().then(() => this.emit('end'));
  }

  /**
   * Applies the motion settings and masks of `cfg` (its top-level motion.* and each source's
   * own) to the running sources' gates from their next frame, without reopening anything.
   */
  setMotion(cfg: Pick<Config, 'motion' | 'sources'>): void {
    for (const run of this.#runs) run.gate.configure(gateOptions(cfg, cfg.sources.find((s) => s.id === run.cfg.id) ?? run.cfg));
  }

  /** A live source's capture rate, which the tracker counts its frames in. */
  #measureRate(run: SourceRun, now: number): void {
    const captured = run.source.stats.captured;
    if (run.rate.at === 0) {
      run.rate = { at: now, captured };
      return;
    }
    const dt = now - run.rate.at;
    if (dt < RATE_WINDOW_MS) return;
    const fps = ((captured - run.rate.captured) * 1000) / dt;
    if (fps > 0) run.events.fps = fps;
    run.rate = { at: now, captured };
  }

  #openStore(): EventStore {
    const dir = this.#eventDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'percept-events-'));
    return EventStore.open(dir, { maxBytes: this.#cfg.events.maxBytes, retentionMs: this.#cfg.events.retentionSeconds * 1000 });
  }

  async #closeStore(): Promise<void> {
    // A store in a temporary folder lives only as long as the pipeline.
    if (this.#store && !this.#eventDir) await this.#store.remove();
  }

  /** Brings the registry's capture, zone and line series up to the sources' own counts. */
  #syncSources(): void {
    for (const r of this.#runs) r.followers.update(r.source.stats);
    this.#em.update(
      this.zoneCounts(),
      this.lineCounts(),
      this.#runs.flatMap((r) => r.events.trackStates()),
    );
  }

  /** Workers replaced after a crash in the running pools of the models `match` picks. */
  workerRestarts(match: (model: LoadedModel) => boolean): number {
    return [...this.#pools.values()].reduce((n, { pool, model }) => n + (match(model) ? pool.stats().restarts : 0), 0);
  }

  status(): PipelineStatus {
    const inferred = this.#runs.reduce((a, r) => a + r.inferred, 0);
    const failed = this.#runs.reduce((a, r) => a + r.failed, 0);
    const corrupt = this.#runs.reduce((a, r) => a + r.corrupt, 0);
    const skipped = this.#runs.reduce((a, r) => a + r.skipped, 0);
    return {
      running: this.#running,
      sources: this.#runs.map((r) => ({
        id: r.cfg.id,
        kind: r.cfg.kind,
        live: r.source.live,
        open: r.open,
        ...r.source.stats,
        inferred: r.inferred,
        failed: r.failed,
        skipped: r.skipped,
        motion: r.gate.enabled ? (r.gate.last?.motion ?? false) : null,
        corrupt: r.source.stats.corrupt + r.corrupt,
        backend: r.source.backend,
        backendReason: r.source.backendReason,
      })),
      models: [...this.#pools.values()].map(({ pool, model }) => {
        const s = pool.stats();
        return {
          name: model.manifest.name,
          version: model.manifest.version,
          sha256: model.sha256,
          provider: s.provider,
          fallbacks: s.fallbacks,
          workers: s.workers,
          restarts: s.restarts,
        };
      }),
      frames: { inferred, failed, corrupt, skipped },
      fps: this.#rate.rate(),
      latencyMs: { p50: this.#latency.percentile(50), p99: this.#latency.percentile(99), mean: this.#latency.mean() },
      stagesMs: {
        queue: this.#stages.queue.mean(),
        preprocess: this.#stages.preprocess.mean(),
        inference: this.#stages.inference.mean(),
        decode: this.#stages.decode.mean(),
      },
      lastResultAt: this.#lastResultAt,
      lastSkippedAt: this.#lastSkippedAt,
      zones: this.zoneCounts(),
      lines: this.lineCounts(),
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
      await this.#closeStore();
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
