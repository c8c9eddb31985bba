// A track event as JSON for everyone outside the process: the fields of the percept.event/1
// message, the getEvents method's answer, the preview's event list. Times as ISO 8601; scores
// and normalised boxes rounded to 4 places.

import type { PerceptEvent } from './types.js';

const r4 = (v: number) => Math.round(v * 1e4) / 1e4;
const iso = (ms: number) => new Date(ms).toISOString();

/** The event's fields as they leave the process. */
export function eventView(e: PerceptEvent) {
  return {
    type: e.type,
    id: e.id,
    label: e.label,
    source: e.source,
    at: iso(e.at),
    startedAt: iso(e.startedAt),
    endedAt: e.endedAt === null ? null : iso(e.endedAt),
    durationMs: Math.max(0, (e.endedAt ?? e.at) - e.startedAt),
    topScore: r4(e.topScore),
    medianScore: r4(e.medianScore),
    box: e.box.map(r4),
    zones: e.zones,
    stationary: e.stationary,
    snapshot: e.snapshot && { at: iso(e.snapshot.at), score: r4(e.snapshot.score), box: e.snapshot.box.map(r4), bytes: e.snapshot.bytes },
  };
}
export type EventView = ReturnType<typeof eventView>;
