// The tracker of one source: associates each frame's detections with tracks that keep an id
// (ByteTrack's scheme: a constant-velocity prediction per track, high-confidence detections
// matched first, then low-confidence ones to the tracks still unmatched), confirms a track after
// a few hits, ends it after a timeout unseen, notices when it stops moving, and keeps the label
// most of its detections carry. Pure: frames in, track states out; no clock, no I/O.

import type { Box } from '../types.js';
import type { TrackView } from './types.js';
import { BoxFilter, iou } from './kalman.js';

export interface TrackerInput {
  label: string;
  score: number;
  /** Normalised 0..1. */
  box: Box;
}

export interface TrackerOptions {
  /** The source's frame rate: the confirmation and timeout are counted in its frames. */
  fps: number;
  /** Detections at or above it are matched first and may start tracks (ByteTrack's track_thresh). */
  highScore: number;
  /** Least IoU between a prediction and a high-confidence detection for a match. */
  matchIou: number;
  /** Seconds unseen before a track ends (fps x this, in frames). */
  timeoutSeconds: number;
  /** Seconds a confirmed track's box stays put before it counts as stationary. */
  stationarySeconds: number;
  /**
   * A live source: frames unseen are counted on the capture clock (fps x the time since the
   * track was last seen), so frames the motion gate skipped count too. A file's are counted one
   * by one, however fast it is read.
   */
  live?: boolean;
}

export const TRACKER_DEFAULTS: Omit<TrackerOptions, 'fps'> = { highScore: 0.5, matchIou: 0.2, timeoutSeconds: 5, stationarySeconds: 10 };

/** Low-confidence detections match only a clear overlap (ByteTrack's second stage). */
const LOW_MATCH_IOU = 0.5;
/** Tentative tracks match new high detections at this IoU (ByteTrack's unconfirmed stage). */
const TENTATIVE_MATCH_IOU = 0.3;
/** A tentative track missed this many frames in a row is dropped without a word. */
const TENTATIVE_MAX_MISSES = 2;
/** Two detections of different labels over this IoU are one object the model could not name. */
const DUPLICATE_IOU = 0.7;
/** A track whose box moved within this many seconds keeps every frame inferred (hasLive). */
const LIVE_STILL_SECONDS = 1;
/** A box that keeps this IoU with where it stopped is still. */
const STILL_IOU = 0.8;
/** Score histogram bins (the median is kept to 1/200). */
const BINS = 200;

/** One track: its identity, its filter, and the counts the lifecycle reads. */
export class Track {
  readonly id: string;
  readonly filter: BoxFilter;
  state: TrackView['state'] = 'tentative';
  hits = 0;
  /** Frames in a row without a match. */
  unseen = 0;
  /** Tentative misses in a row. */
  misses = 0;
  /** Whether this frame matched a detection. */
  seen = true;
  /** The last matched detection's score and box. */
  score: number;
  lastBox: Box;
  topScore: number;
  /** Capture time of the first and last match. */
  startedAt: number;
  lastSeenAt: number;
  /** The source's frame (Tracker's position, see update) of the last match. */
  lastSeenFrame: number;
  readonly #votes = new Map<string, number>();
  #label: string;
  readonly #hist = new Uint32Array(BINS + 1);
  /** Where the box stopped, when (capture time), and for how many matched frames it has stayed there. */
  #anchor: Box;
  #anchorAt: number;
  #still = 0;

  constructor(id: string, d: TrackerInput, at: number, frame: number) {
    this.id = id;
    this.lastSeenFrame = frame;
    this.filter = new BoxFilter(d.box);
    this.score = d.score;
    this.topScore = d.score;
    this.lastBox = d.box;
    this.#anchor = d.box;
    this.#anchorAt = at;
    this.startedAt = at;
    this.lastSeenAt = at;
    this.#label = d.label;
    this.#record(d);
  }

  /** The label most of its detections carried (the first one wins a tie). */
  get label(): string {
    return this.#label;
  }

  /** The median score of its detections. */
  get medianScore(): number {
    let half = this.hits / 2;
    for (let i = 0; i <= BINS; i++) {
      half -= this.#hist[i] ?? 0;
      if (half <= 0) return i / BINS;
    }
    return 1;
  }

  get box(): Box {
    return this.seen ? this.lastBox : this.filter.box;
  }

  get confirmed(): boolean {
    return this.state !== 'tentative';
  }

  #record(d: TrackerInput): void {
    this.hits++;
    const bin = Math.round(Math.min(Math.max(d.score, 0), 1) * BINS);
    this.#hist[bin] = (this.#hist[bin] ?? 0) + 1;
    const n = (this.#votes.get(d.label) ?? 0) + 1;
    this.#votes.set(d.label, n);
    if (n > (this.#votes.get(this.#label) ?? 0)) this.#label = d.label;
  }

  /**
   * Seconds its box has stayed put: on a live source by the capture clock (frames the motion gate
   * skipped count), on a file by matched frames at the file's rate.
   */
  stillSeconds(o: Pick<TrackerOptions, 'live' | 'fps'>): number {
    return o.live ? (this.lastSeenAt - this.#anchorAt) / 1000 : this.#still / o.fps;
  }

  match(d: TrackerInput, at: number, frame: number, o: Pick<TrackerOptions, 'live' | 'fps' | 'stationarySeconds'>): void {
    this.#record(d);
    this.lastSeenFrame = frame;
    this.filter.update(d.box);
    this.seen = true;
    this.unseen = 0;
    this.misses = 0;
    this.score = d.score;
    this.topScore = Math.max(this.topScore, d.score);
    this.lastBox = d.box;
    this.lastSeenAt = at;
    if (iou(d.box, this.#anchor) >= STILL_IOU) {
      this.#still++;
    } else {
      this.#anchor = d.box;
      this.#anchorAt = at;
      this.#still = 0;
      if (this.state === 'stationary') this.state = 'confirmed';
    }
    if (this.state === 'confirmed' && this.stillSeconds(o) >= o.stationarySeconds) {
      this.state = 'stationary';
      this.filter.stop();
    }
  }

  view(): TrackView {
    return { id: this.id, label: this.#label, score: this.score, box: clampBox(this.box), state: this.state, hits: this.hits, seen: this.seen };
  }
}

export interface TrackerStep {
  /** Every track alive after this frame, tentative ones included. */
  tracks: Track[];
  /** Tracks confirmed by this frame. */
  confirmed: Track[];
  /** Confirmed tracks that ended with this frame (tentative ones vanish silently). */
  ended: Track[];
}

export class Tracker {
  readonly #opts: TrackerOptions;
  readonly #nextId: () => string;
  #tracks: Track[] = [];
  /** Where the source is, in its frames (fractional on a live source), and the capture time there. */
  #frame = 0;
  #at: number | null = null;

  /** `nextId` names a new track (`<source>-<n>`, unique within the agent's state). */
  constructor(opts: TrackerOptions, nextId: () => string) {
    this.#opts = opts;
    this.#nextId = nextId;
  }

  /** Hits that confirm a track: half a second of frames, at least 2. */
  get confirmHits(): number {
    return Math.max(Math.ceil(this.#opts.fps / 2), 2);
  }

  /**
   * Whether a track unseen in this frame has been gone long enough to end: `maxUnseen` of the
   * source's frames since it was last seen (a file's frames by number, a live source's by the
   * capture clock), frames the motion gate skipped or the source dropped included. On a live
   * source a track standing still, which the gate leaves to keyframes (one every few seconds),
   * must also have been missed by a second of inferred frames: one keyframe that misses it does
   * not end it, it makes the track live (hasLive) so the next frames are inferred.
   */
  #overdue(t: Track, maxUnseen: number): boolean {
    // (A live source's position is a sum of fractions: a hair's tolerance.)
    const gone = this.#frame - t.lastSeenFrame >= maxUnseen - 1e-6;
    if (!this.#opts.live) return gone;
    return gone && t.unseen >= Math.min(maxUnseen, Math.max(2, Math.round(this.#opts.fps)));
  }

  /**
   * The source's position in frames at this update: `frame` when given (a file's frame number),
   * else on a live source the last position plus the capture time since it times the rate, else
   * the next frame.
   */
  #advance(at: number, frame: number | undefined): number {
    let next: number;
    if (frame !== undefined) next = frame;
    else if (this.#opts.live) next = this.#at === null ? 0 : this.#frame + (Math.max(at - this.#at, 0) * this.#opts.fps) / 1000;
    else next = this.#at === null ? 0 : this.#frame + 1;
    const frames = this.#at === null ? 1 : next - this.#frame;
    this.#frame = next;
    this.#at = at;
    return frames;
  }

  /** Frames unseen that end a track. */
  get maxUnseen(): number {
    return Math.max(Math.round(this.#opts.fps * this.#opts.timeoutSeconds), 1);
  }

  get tracks(): readonly Track[] {
    return this.#tracks;
  }

  /**
   * Whether a track needs every frame inferred (the motion gate asks): a tentative one (to confirm
   * or drop it), one the last inferred frame missed (to find it again or end it), or one whose box
   * moved within the last second. A track that stands still is left to motion and keyframes.
   */
  get hasLive(): boolean {
    return this.#tracks.some((t) => t.state === 'tentative' || t.unseen > 0 || (t.state === 'confirmed' && t.stillSeconds(this.#opts) < LIVE_STILL_SECONDS));
  }

  /**
   * One frame's detections (normalised boxes) at capture time `at` (ms). `frame`: the frame's
   * number in the source, for a file (its media time in frames); without it a live source's
   * frames are counted on the capture clock and a file's as the next one. The predictions move on
   * by the source's frames since the last update, so frames skipped by the gate or dropped by a
   * live source do not slow them down.
   */
  update(detections: readonly TrackerInput[], at: number, frame?: number): TrackerStep {
    const o = this.#opts;
    const elapsed = this.#advance(at, frame);
    for (const t of this.#tracks) {
      t.filter.predict(t.seen, elapsed);
      t.seen = false;
    }
    const dets = dedupe(detections);
    const high = dets.filter((d) => d.score >= o.highScore);
    const low = dets.filter((d) => d.score < o.highScore);
    const active = this.#tracks.filter((t) => t.confirmed);
    const tentative = this.#tracks.filter((t) => !t.confirmed);
    const take = (pairs: Array<[Track, TrackerInput]>) => {
      for (const [t, d] of pairs) t.match(d, at, this.#frame, o);
    };

    // 1. Confirmed tracks, lost ones included, against the confident detections.
    const s1 = associate(active, high, o.matchIou);
    take(s1.pairs);
    // 2. Those seen in the last frame and still unmatched, against the doubtful ones: an object
    //    partly hidden keeps its track without a doubtful detection ever starting one.
    const recent = s1.tracks.filter((t) => t.unseen === 0);
    const s2 = associate(recent, low, LOW_MATCH_IOU);
    take(s2.pairs);
    // 3. Tentative tracks against what is left of the confident detections.
    const s3 = associate(tentative, s1.dets, TENTATIVE_MATCH_IOU);
    take(s3.pairs);

    const confirmed: Track[] = [];
    const ended: Track[] = [];
    const hits = this.confirmHits;
    const maxUnseen = this.maxUnseen;
    const next: Track[] = [];
    for (const t of this.#tracks) {
      if (!t.seen) {
        t.unseen++;
        if (!t.confirmed) {
          if (++t.misses > TENTATIVE_MAX_MISSES) continue;
        } else if (this.#overdue(t, maxUnseen)) {
          ended.push(t);
          continue;
        }
      } else if (!t.confirmed && t.hits >= hits) {
        t.state = 'confirmed';
        confirmed.push(t);
      }
      next.push(t);
    }
    // 4. Confident detections nobody claimed start tentative tracks.
    for (const d of s3.dets) next.push(new Track(this.#nextId(), d, at, this.#frame));
    this.#tracks = next;
    return { tracks: next, confirmed, ended };
  }

  /** Ends every track (the source ended or the pipeline stops): the confirmed ones are returned. */
  endAll(): Track[] {
    const ended = this.#tracks.filter((t) => t.confirmed);
    this.#tracks = [];
    return ended;
  }
}

/**
 * The same object detected under two labels (a small model's cup and bowl on one box) is one
 * detection: the higher score stays. Per-class NMS cannot see it.
 */
function dedupe(dets: readonly TrackerInput[]): TrackerInput[] {
  const sorted = [...dets].sort((a, b) => b.score - a.score);
  const kept: TrackerInput[] = [];
  for (const d of sorted) if (!kept.some((k) => k.label !== d.label && iou(k.box, d.box) > DUPLICATE_IOU)) kept.push(d);
  return kept;
}

/**
 * Greedy association by IoU with each track's prediction, best pair first. A lost track also
 * matches by its last seen box (an object that came back where it left) but only a detection
 * of its own label. Returns the pairs and what is left unmatched on either side.
 */
function associate(tracks: Track[], dets: TrackerInput[], minIou: number): { pairs: Array<[Track, TrackerInput]>; tracks: Track[]; dets: TrackerInput[] } {
  const cand: Array<{ t: number; d: number; v: number }> = [];
  tracks.forEach((t, ti) => {
    const pred = t.filter.box;
    dets.forEach((d, di) => {
      let v = iou(pred, d.box);
      if (t.unseen > 0 && d.label === t.label) v = Math.max(v, iou(t.lastBox, d.box));
      if (v >= minIou) cand.push({ t: ti, d: di, v });
    });
  });
  cand.sort((a, b) => b.v - a.v);
  const usedT = new Set<number>();
  const usedD = new Set<number>();
  const pairs: Array<[Track, TrackerInput]> = [];
  for (const c of cand) {
    if (usedT.has(c.t) || usedD.has(c.d)) continue;
    const t = tracks[c.t];
    const d = dets[c.d];
    if (!t || !d) continue;
    usedT.add(c.t);
    usedD.add(c.d);
    pairs.push([t, d]);
  }
  return { pairs, tracks: tracks.filter((_, i) => !usedT.has(i)), dets: dets.filter((_, i) => !usedD.has(i)) };
}

function clampBox(b: Box): Box {
  const c = (v: number) => Math.min(Math.max(v, 0), 1);
  return [c(b[0]), c(b[1]), c(b[2]), c(b[3])];
}
