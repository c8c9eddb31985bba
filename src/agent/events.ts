// What the agent reads of a pipeline's track events: the 'event' stream, the reader of recent
// events and snapshots, and the zone and line counts. The agent takes them through this
// interface, so every consumer (telemetry, the direct methods, the status, the preview) is
// written against the events contract (src/events/types.ts), not against the tracker.

import type { EventReader, LineCount, PerceptEvent, ZoneCount } from '../events/types.js';
import type { SourceTallies } from '../telemetry/encode.js';
import type { SourceLayout } from '../web/index.js';

type Point = [number, number];
interface SourceShapes {
  id: string;
  /** A zone's corners are `points` (or `polygon`, the tracker's own name for them). */
  zones?: Array<{ name: string; points?: Point[]; polygon?: Point[] }>;
  lines?: Array<{ name: string; points: Point[] }>;
}

/** The sources' zones and lines as the preview draws them. */
export function layoutOf(sources: readonly SourceShapes[]): SourceLayout[] {
  return sources.map((s) => ({
    id: s.id,
    zones: (s.zones ?? []).map((z) => ({ name: z.name, points: z.points ?? z.polygon ?? [] })),
    lines: (s.lines ?? []).map((l) => ({ name: l.name, points: l.points })),
  }));
}

export type EventListener = (e: PerceptEvent) => void;

/** A pipeline that tracks objects: it emits 'event' and keeps the recent events and the counts. */
export interface EventFeed {
  on(ev: 'event', fn: EventListener): unknown;
  off(ev: 'event', fn: EventListener): unknown;
  readonly events: EventReader;
  zoneCounts(): ZoneCount[];
  lineCounts(): LineCount[];
}

/** The pipeline as an event feed, or null when it keeps no events. */
export function eventFeed(p: object | null | undefined): EventFeed | null {
  if (!p) return null;
  const q = p as Partial<EventFeed>;
  // `events` is checked by presence, not read: a reader made at start may not exist yet.
  if (typeof q.on !== 'function' || typeof q.off !== 'function' || typeof q.zoneCounts !== 'function' || typeof q.lineCounts !== 'function') return null;
  return 'events' in q ? (q as EventFeed) : null;
}

/** The counts of every source, for the status snapshot. */
export function allTallies(feed: EventFeed | null): { zones: ZoneCount[]; lines: LineCount[] } {
  return feed ? { zones: feed.zoneCounts(), lines: feed.lineCounts() } : { zones: [], lines: [] };
}

/** One source's counts, for its window messages; undefined when the pipeline keeps none. */
export function sourceTallies(feed: EventFeed | null, source: string): SourceTallies | undefined {
  if (!feed) return undefined;
  return { zones: feed.zoneCounts().filter((z) => z.source === source), lines: feed.lineCounts().filter((l) => l.source === source) };
}
