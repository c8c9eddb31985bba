// The motion gate of one source: decides, frame by frame and before inference, whether the
// frame is worth a model run. It is while something moves, while the source has a live track,
// and once every keyframe interval so that objects standing still stay known.

import type { Config, SourceConfig, SourceKind } from '../config/schema.js';
import type { Frame } from '../types.js';
import { greyOf } from './luma.js';
import { MotionDetector, type MotionReport, type MotionSettings, type Polygon } from './motion.js';

/** Kinds gated when motion.enabled is `auto`: live scenes, where most frames repeat the last. */
export const GATED_KINDS: readonly SourceKind[] = ['webcam', 'rtsp', 'demo', 'synthetic'];

export interface GateOptions {
  enabled: boolean;
  keyframeMs: number;
  /** While nothing moves and no track lives, frames judged at least this far apart (0: every frame). */
  idleIntervalMs: number;
  frameHeight: number;
  settings: MotionSettings;
  masks: Polygon[];
}

/** A source's gate options: its own `motion` keys over the top-level ones, `auto` decided by its kind. */
export function gateOptions(cfg: Pick<Config, 'motion'>, source: Pick<SourceConfig, 'kind' | 'motion' | 'motionMasks'>): GateOptions {
  const m = { ...cfg.motion, ...stripUndefined(source.motion ?? {}) };
  const enabled = m.enabled === 'auto' ? GATED_KINDS.includes(source.kind) : m.enabled === 'on';
  return {
    enabled,
    keyframeMs: m.keyframeSeconds * 1000,
    idleIntervalMs: m.idleFps > 0 ? 1000 / m.idleFps : 0,
    frameHeight: m.frameHeight,
    settings: {
      threshold: m.threshold,
      minArea: m.minArea,
      backgroundWeight: m.backgroundWeight,
      recalibrateFraction: m.recalibrateFraction,
      improveContrast: m.improveContrast,
    },
    masks: source.motionMasks ?? [],
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Why a frame goes to the model, or `still` when it does not. */
export type GateReason = 'off' | 'motion' | 'track' | 'keyframe' | 'unreadable' | 'still';

export interface GateVerdict {
  infer: boolean;
  reason: GateReason;
  report: MotionReport | null;
}

export class MotionGate {
  #opts: GateOptions;
  readonly #detector: MotionDetector;
  #lastInferredAt = -Infinity;
  #lastJudgedAt = -Infinity;
  #last: MotionReport | null = null;

  constructor(opts: GateOptions) {
    this.#opts = opts;
    this.#detector = new MotionDetector(opts.settings, opts.masks);
  }

  get enabled(): boolean {
    return this.#opts.enabled;
  }

  /** The last frame's report (null while the gate is off or before a frame). */
  get last(): MotionReport | null {
    return this.#last;
  }

  /** Applies from the next frame; turning the gate back on, or new masks, relearn the background. */
  configure(opts: GateOptions): void {
    const wasOn = this.#opts.enabled;
    this.#opts = opts;
    this.#detector.configure(opts.settings, opts.masks);
    if (opts.enabled && !wasOn) this.#detector.reset();
    if (!opts.enabled) this.#last = null;
  }

  /**
   * Whether this frame goes to the model. Frames come in capture order. Never rejects: a frame
   * the gate cannot read goes to the model, whose worker reports it as corrupt.
   */
  async admit(frame: Frame, liveTracks: boolean): Promise<GateVerdict> {
    if (!this.#opts.enabled) return { infer: true, reason: 'off', report: null };
    // Reading a frame is most of the gate's cost: while the scene is still, frames between
    // judged ones are skipped unread (a new motion waits at most one idle interval).
    const keyframeDue = frame.capturedAt - this.#lastInferredAt >= this.#opts.keyframeMs;
    const idle = !liveTracks && !keyframeDue && !(this.#last?.motion ?? false);
    if (idle && frame.capturedAt - this.#lastJudgedAt < this.#opts.idleIntervalMs) return { infer: false, reason: 'still', report: null };
    this.#lastJudgedAt = frame.capturedAt;
    let report: MotionReport;
    try {
      report = this.#detector.detect(await greyOf(frame, this.#opts.frameHeight));
    } catch {
      return this.#pass(frame, 'unreadable', null);
    }
    this.#last = report;
    if (report.motion) return this.#pass(frame, 'motion', report);
    if (liveTracks) return this.#pass(frame, 'track', report);
    if (keyframeDue) return this.#pass(frame, 'keyframe', report);
    return { infer: false, reason: 'still', report };
  }

  #pass(frame: Frame, reason: GateReason, report: MotionReport | null): GateVerdict {
    this.#lastInferredAt = frame.capturedAt;
    return { infer: true, reason, report };
  }
}
