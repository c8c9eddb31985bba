// What the events layer hands to everyone else: tracks on a frame's result, the events of a
// track's life (new, update, end), zone and line counts, and the store that keeps recent events
// and their snapshots under <state>/events/. The tracker and lifecycle produce these; telemetry,
// the direct methods, the preview and `--output events` consume them.

import type { Box } from '../types.js';

/** A track as one frame sees it (carried by per-frame results as `tracks`). */
export interface TrackView {
  /** Stable for the track's life, unique within the agent's state: `<source>-<n>`. */
  id: string;
  label: string;
  /** This frame's detection score, or the last one when the track was not seen in this frame. */
  score: number;
  /** Normalised 0..1, [x0, y0, x1, y1]: the matched detection's box, or the prediction. */
  box: Box;
  state: 'tentative' | 'confirmed' | 'stationary';
  /** Frames matched so far. */
  hits: number;
  /** Whether a detection of this frame matched the track. */
  seen: boolean;
}

export type EventType = 'new' | 'update' | 'end';

/** The best frame of a track so far, kept as a JPEG in the event store. */
export interface SnapshotRef {
  /** Capture time of that frame, ms since the epoch. */
  at: number;
  score: number;
  /** Normalised box of the object in that frame. */
  box: Box;
  /** Size of the stored JPEG in bytes. */
  bytes: number;
}

/** One step of a track's life. Times are the frames' capture times (ms since the epoch). */
export interface PerceptEvent {
  type: EventType;
  /** The track's id (the same on its new, update and end events). */
  id: string;
  label: string;
  source: string;
  /** Capture time of the frame that produced this event. */
  at: number;
  startedAt: number;
  /** Set on `end`: the capture time of the last frame the track was seen in. */
  endedAt: number | null;
  topScore: number;
  medianScore: number;
  /** Normalised box, last known. */
  box: Box;
  /** Zones the track is in now (by the bottom centre of its box). */
  zones: string[];
  stationary: boolean;
  snapshot: SnapshotRef | null;
}

/** Crossings of one line, per direction, since the agent started. */
export interface LineCount {
  source: string;
  line: string;
  /** Crossings from the left of the line (as drawn from its first point to its last) to the right. */
  forward: number;
  backward: number;
}

/** Entries and exits of one zone, since the agent started, and how many tracks are in it now. */
export interface ZoneCount {
  source: string;
  zone: string;
  entered: number;
  exited: number;
  present: number;
}

/** Recent events and their snapshots, bounded in count, bytes and age. */
export interface EventReader {
  /** Events with `at` >= since (ms), oldest first, at most `limit` (newest kept when cut). */
  list(opts?: { since?: number; limit?: number }): PerceptEvent[];
  /** The JPEG of a track's best snapshot, or null when there is none (or it has expired). */
  snapshot(id: string): Promise<Buffer | null>;
}
