// What the agent reads of a pipeline's track events: the 'event' stream, the reader of recent
// events and snapshots, and the zone and line counts. The agent takes them through this
// interface, so every consumer (telemetry, the direct methods, the status, the preview) is
// written against the events contract (src/events/types.ts), not against the tracker.

import type { LineCount, ZoneCount } from '../events/types.js';
import type { Pipeline } from '../pipeline/pipeline.js';
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

/** What the agent reads of a pipeline's events (the Pipeline has them all). */
export type EventFeed = Pick<Pipeline, 'events' | 'zoneCounts' | 'lineCounts'>;

/** The running pipeline as an event feed, or null when there is none. */
export function eventFeed(p: Pipeline | null | undefined): EventFeed | null {
  return p ?? null;
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
