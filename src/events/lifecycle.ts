// The life of a track as events: `new` once it is confirmed and its median score passes the
// threshold, `update` when its zones, its stationary state or its best snapshot change (at most
// one per interval per track, on the capture clock), `end` when the tracker lets it go. Pure:
// it decides which events a frame produces and which tracks this frame shows best; the source's
// event runner (source-events.ts) stores snapshots and sends the events.

import type { EventType, PerceptEvent, SnapshotRef } from './types.js';
import type { Track, TrackerStep } from './tracker.js';
import type { ZoneBook } from './zones.js';
import { snapshotQuality } from './snapshot.js';

export interface LifecycleOptions {
  /** A confirmed track is announced once its median score reaches this. */
  threshold: number;
  /** A label's own threshold, over `threshold`. */
  labelThresholds?: Readonly<Record<string, number>>;
  /** Least time between two updates of one track, in ms of capture time. */
  updateIntervalMs: number;
}

export const LIFECYCLE_DEFAULTS: LifecycleOptions = { threshold: 0.5, updateIntervalMs: 1000 };

interface Life {
  announced: boolean;
  lastEventAt: number;
  /** Something worth an update happened since the last event. */
  dirty: boolean;
  stationary: boolean;
  /** Quality of the best frame so far (see snapshotQuality), and of the one the last event carried. */
  best: number;
  sent: number;
}

/** A better snapshot is worth an update when it is this much better than the one last sent. */
const SNAPSHOT_GAIN = 1.2;

export interface Decision {
  type: EventType;
  track: Track;
  zones: string[];
}

export class Lifecycle {
  #opts: LifecycleOptions;
  readonly #lives = new Map<string, Life>();

  constructor(opts: LifecycleOptions) {
    this.#opts = opts;
  }

  set options(o: LifecycleOptions) {
    this.#opts = o;
  }

  /**
   * One frame, after the tracker: the events it produces, in order, and the tracks whose
   * detection in this frame is their best so far (their snapshot should be taken from it).
   */
  step(at: number, st: TrackerStep, zones: ZoneBook): { decisions: Decision[]; better: Track[] } {
    // `at`: the source's clock in ms (capture time, or a file's media time), for spacing updates.
    const decisions: Decision[] = [];
    const better: Track[] = [];
    for (const t of st.tracks) {
      let life = this.#lives.get(t.id);
      if (!life) {
        life = { announced: false, lastEventAt: at, dirty: false, stationary: false, best: 0, sent: 0 };
        this.#lives.set(t.id, life);
      }
      if (!t.seen) continue;
      const q = snapshotQuality(t.score, t.lastBox);
      if (q > life.best) {
        life.best = q;
        better.push(t);
        if (life.announced && q > life.sent * SNAPSHOT_GAIN) life.dirty = true;
      }
    }
    const { changed } = zones.step(st.tracks.filter((t) => t.confirmed));
    for (const t of st.tracks) {
      const life = this.#lives.get(t.id);
      if (!life || !t.confirmed) continue;
      const stationary = t.state === 'stationary';
      if (!life.announced) {
        if (t.medianScore < (this.#opts.labelThresholds?.[t.label] ?? this.#opts.threshold)) continue;
        life.announced = true;
        life.lastEventAt = at;
        life.dirty = false;
        life.stationary = stationary;
        life.sent = life.best;
        decisions.push({ type: 'new', track: t, zones: zones.zonesOf(t.id) });
        continue;
      }
      if (changed.has(t.id) || stationary !== life.stationary) life.dirty = true;
      life.stationary = stationary;
      if (life.dirty && at - life.lastEventAt >= this.#opts.updateIntervalMs) {
        life.dirty = false;
        life.lastEventAt = at;
        life.sent = life.best;
        decisions.push({ type: 'update', track: t, zones: zones.zonesOf(t.id) });
      }
    }
    // Tracks the tracker dropped (tentative ones included) are forgotten here too.
    const alive = new Set(st.tracks.map((t) => t.id));
    for (const t of st.ended) decisions.push(...this.#end(t, zones));
    for (const id of this.#lives.keys()) if (!alive.has(id)) this.#lives.delete(id);
    return { decisions, better };
  }

  /** Tracks ended outside a frame (the source ended, the pipeline stops). */
  endAll(tracks: readonly Track[], zones: ZoneBook): Decision[] {
    const out = tracks.flatMap((t) => this.#end(t, zones));
    this.#lives.clear();
    return out;
  }

  #end(t: Track, zones: ZoneBook): Decision[] {
    const life = this.#lives.get(t.id);
    const inZones = zones.zonesOf(t.id);
    zones.forget(t.id);
    this.#lives.delete(t.id);
    return life?.announced ? [{ type: 'end', track: t, zones: inZones }] : [];
  }
}

/** The event a decision becomes, with the track's snapshot as stored. */
export function toEvent(d: Decision, source: string, at: number, snapshot: SnapshotRef | null): PerceptEvent {
  const t = d.track;
  return {
    type: d.type,
    id: t.id,
    label: t.label,
    source,
    at,
    startedAt: t.startedAt,
    endedAt: d.type === 'end' ? t.lastSeenAt : null,
    topScore: t.topScore,
    medianScore: t.medianScore,
    // An ended track is where it was last seen, not where the prediction drifted to.
    box: d.type === 'end' ? t.lastBox : t.view().box,
    zones: d.type === 'end' ? [] : d.zones,
    stationary: t.state === 'stationary',
    snapshot,
  };
}
