// The events of one source: its tracker, zones and lifecycle fed with its results in capture
// order. Tracks go on the result at once; events leave in order through one chain per source,
// each after its snapshot is stored. Frame bytes are kept only for a track whose best frame
// this is, until its snapshot is cut.

import type { Logger } from '../log.js';
import type { Box, Detection } from '../types.js';
import type { LineCount, PerceptEvent, SnapshotRef, TrackView, ZoneCount } from './types.js';
import { Tracker, TRACKER_DEFAULTS, type TrackerOptions } from './tracker.js';
import { Lifecycle, LIFECYCLE_DEFAULTS, toEvent, type Decision, type LifecycleOptions } from './lifecycle.js';
import { ZoneBook, type LineDef, type ZoneDef } from './zones.js';
import { cropSnapshot, type FrameBytes } from './snapshot.js';
import type { EventStore } from './store.js';

export interface EventSettings {
  tracker: Omit<TrackerOptions, 'fps'>;
  lifecycle: LifecycleOptions;
  zones: ZoneDef[];
  lines: LineDef[];
}

export const EVENT_DEFAULTS: EventSettings = { tracker: TRACKER_DEFAULTS, lifecycle: LIFECYCLE_DEFAULTS, zones: [], lines: [] };

interface Pending {
  frame: FrameBytes;
  box: Box;
  score: number;
  at: number;
}

export class SourceEvents {
  readonly source: string;
  readonly #store: EventStore;
  readonly #emit: (e: PerceptEvent) => void;
  readonly #log: Logger;
  readonly #tracker: Tracker;
  readonly #trackerOpts: TrackerOptions;
  readonly #lifecycle: Lifecycle;
  #zones: ZoneBook;
  /** The best frame of each track not yet cut into its snapshot. */
  readonly #pending = new Map<string, Pending>();
  readonly #snapshots = new Map<string, SnapshotRef>();
  #chain: Promise<void> = Promise.resolve();
  #lastAt = 0;
  /** The zones and lines the ZoneBook was made from, to tell a change from the same set again. */
  #zoneKey: string;

  /** `live`: the source runs on the capture clock (see TrackerOptions.live). */
  constructor(opts: {
    source: string;
    fps: number;
    live: boolean;
    settings: EventSettings;
    store: EventStore;
    emit: (e: PerceptEvent) => void;
    logger: Logger;
  }) {
    this.source = opts.source;
    this.#store = opts.store;
    this.#emit = opts.emit;
    this.#log = opts.logger;
    this.#trackerOpts = { ...opts.settings.tracker, fps: opts.fps, live: opts.live };
    this.#tracker = new Tracker(this.#trackerOpts, () => this.#store.nextId(this.source));
    this.#lifecycle = new Lifecycle(opts.settings.lifecycle);
    this.#zones = new ZoneBook(this.source, opts.settings.zones, opts.settings.lines);
    this.#zoneKey = JSON.stringify([opts.settings.zones, opts.settings.lines]);
  }

  /** The frame rate the tracker counts in (a live source's measured rate, as it settles). */
  set fps(fps: number) {
    if (fps > 0 && Number.isFinite(fps)) this.#trackerOpts.fps = fps;
  }

  get fps(): number {
    return this.#trackerOpts.fps;
  }

  /** New settings from the next frame on; zones and lines start counting again when they change. */
  configure(s: EventSettings): void {
    Object.assign(this.#trackerOpts, s.tracker);
    this.#lifecycle.options = s.lifecycle;
    const key = JSON.stringify([s.zones, s.lines]);
    if (key !== this.#zoneKey) this.#zones = new ZoneBook(this.source, s.zones, s.lines);
    this.#zoneKey = key;
  }

  /** Whether a track still moves here (the motion gate keeps inferring while one does). */
  hasLiveTracks(): boolean {
    return this.#tracker.hasLive;
  }

  /** Tracks alive now, by state. */
  trackStates(): Array<{ source: string; state: string; n: number }> {
    const n = new Map<string, number>([
      ['tentative', 0],
      ['confirmed', 0],
      ['stationary', 0],
    ]);
    for (const t of this.#tracker.tracks) n.set(t.state, (n.get(t.state) ?? 0) + 1);
    return [...n].map(([state, count]) => ({ source: this.source, state, n: count }));
  }

  zoneCounts(): ZoneCount[] {
    return this.#zones.zoneCounts();
  }

  lineCounts(): LineCount[] {
    return this.#zones.lineCounts();
  }

  /**
   * One result, in capture order: the tracks it shows. `frame` is the frame's bytes (kept only
   * when this frame is some track's best so far).
   */
  onResult(r: { seq: number; capturedAt: number; detections: Detection[] }, frame: FrameBytes | null): TrackView[] {
    const at = r.capturedAt;
    // Updates are spaced on the source's own clock: a live source's capture time, a file's
    // media time (its frames at its rate), however fast the file is read.
    const clock = this.#trackerOpts.live ? at : ((r.seq - 1) * 1000) / this.#trackerOpts.fps;
    this.#lastAt = at;
    const st = this.#tracker.update(
      r.detections.map((d) => ({ label: d.label, score: d.confidence, box: d.boxNorm })),
      at,
      // A file's frames by number (frames the gate skipped count); a live source's by the clock.
      this.#trackerOpts.live ? undefined : r.seq,
    );
    const { decisions, better } = this.#lifecycle.step(clock, st, this.#zones);
    if (frame) for (const t of better) this.#pending.set(t.id, { frame, box: t.lastBox, score: t.score, at });
    const alive = new Set(st.tracks.map((t) => t.id));
    for (const id of this.#pending.keys()) if (!alive.has(id) && !decisions.some((d) => d.track.id === id)) this.#pending.delete(id);
    this.#send(decisions, at);
    return st.tracks.map((t) => t.view());
  }

  /** Ends every track (the source ended or the pipeline stops) and waits for the events to leave. */
  async end(): Promise<void> {
    const decisions = this.#lifecycle.endAll(this.#tracker.endAll(), this.#zones);
    this.#send(decisions, this.#lastAt || Date.now());
    await this.#chain;
  }

  /** Waits until every event so far has left. */
  drain(): Promise<void> {
    return this.#chain;
  }

  #send(decisions: Decision[], at: number): void {
    if (!decisions.length) return;
    this.#chain = this.#chain.then(async () => {
      for (const d of decisions) {
        const id = d.track.id;
        await this.#takeSnapshot(id);
        const e = toEvent(d, this.source, at, this.#snapshots.get(id) ?? null);
        if (d.type === 'end') {
          this.#snapshots.delete(id);
          this.#pending.delete(id);
        }
        this.#store.add(e);
        try {
          this.#emit(e);
        } catch (err) {
          this.#log.error({ err, source: this.source, event: e.type, id }, 'an event listener failed');
        }
      }
    });
  }

  async #takeSnapshot(id: string): Promise<void> {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    try {
      const jpeg = await cropSnapshot(p.frame, p.box);
      await this.#store.putSnapshot(id, jpeg, p.at);
      this.#snapshots.set(id, { at: p.at, score: p.score, box: p.box, bytes: jpeg.length });
    } catch (err) {
      // The event still leaves, with the snapshot it had.
      this.#log.warn({ err, source: this.source, id }, `could not store the snapshot of track ${id}: ${(err as Error).message}`);
    }
  }
}
