// The events layer's series in the agent's registry: events by type, tracks alive, zone entries
// and exits, tracks in each zone now, line crossings by direction. Zone and line counts live in
// each source's ZoneBook; followers carry their rises into the counters at every scrape, so a
// rebuilt pipeline (counting from 0 again) continues the same series.

import { Follower, type Count, type Metrics } from '../metrics.js';
import type { EventType, LineCount, ZoneCount } from './types.js';

export function eventMetrics(m: Metrics) {
  const events = m.counter('percept_events_total', 'Track events sent, by type: new, update, end', ['type']);
  for (const type of ['new', 'update', 'end']) events.zero({ type });
  const tracks = m.gauge('percept_tracks', 'Tracks alive now, by source and state (tentative, confirmed, stationary)', ['source', 'state']);
  const entries = m.counter('percept_zone_entries_total', 'Tracks that entered a zone, by source and zone', ['source', 'zone']);
  const exits = m.counter('percept_zone_exits_total', 'Tracks that left a zone (or ended in it), by source and zone', ['source', 'zone']);
  const present = m.gauge('percept_zone_present', 'Tracks in a zone now, by source and zone', ['source', 'zone']);
  const crossings = m.counter('percept_line_crossings_total', 'Line crossings by source, line and direction (forward: from the left of the line as drawn)', [
    'source',
    'line',
    'direction',
  ]);
  const followers = new Map<string, Follower>();
  const follow = (count: Count<string>, labels: Record<string, string>, raw: number) => {
    const key = `${count === entries ? 'e' : count === exits ? 'x' : 'c'}|${JSON.stringify(labels)}`;
    let f = followers.get(key);
    if (!f) {
      f = new Follower(count, labels);
      followers.set(key, f);
    }
    f.update(raw);
  };
  return {
    event(type: EventType): void {
      events.inc(1, { type });
    },
    /** Brings the series up to the counts of this moment. */
    update(zones: ZoneCount[], lines: LineCount[], trackStates: Array<{ source: string; state: string; n: number }>): void {
      for (const z of zones) {
        follow(entries, { source: z.source, zone: z.zone }, z.entered);
        follow(exits, { source: z.source, zone: z.zone }, z.exited);
        present.set({ source: z.source, zone: z.zone }, z.present);
      }
      for (const l of lines) {
        follow(crossings, { source: l.source, line: l.line, direction: 'forward' }, l.forward);
        follow(crossings, { source: l.source, line: l.line, direction: 'backward' }, l.backward);
      }
      tracks.reset();
      for (const t of trackStates) tracks.set({ source: t.source, state: t.state }, t.n);
    },
  };
}

export type EventMetrics = ReturnType<typeof eventMetrics>;
