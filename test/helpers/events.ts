// Track events for the consumers' tests, written against the events contract
// (src/events/types.ts): an event factory, and a small in-memory EventReader with real JPEG
// snapshots that stands in for the tracker's event store where a test feeds events itself.
import type { EventReader, PerceptEvent } from '../../src/events/types.js';

export const T0 = Date.parse('2026-11-28T10:02:00.000Z');

export function trackEvent(over: Partial<PerceptEvent> = {}): PerceptEvent {
  return {
    type: 'new',
    id: 'door-7',
    label: 'person',
    source: 'door',
    at: T0 + 500,
    startedAt: T0,
    endedAt: null,
    topScore: 0.912345,
    medianScore: 0.8,
    box: [0.1, 0.2, 0.30001, 0.9],
    zones: ['entrance'],
    stationary: false,
    snapshot: { at: T0 + 250, score: 0.912345, box: [0.1, 0.2, 0.3, 0.9], bytes: 23_456 },
    ...over,
  };
}

/** Keeps every event it is given and the snapshots set for track ids; the contract's list semantics. */
export class MemoryEventReader implements EventReader {
  readonly events: PerceptEvent[] = [];
  readonly snapshots = new Map<string, Buffer>();

  add(e: PerceptEvent): void {
    this.events.push(e);
  }

  list(opts: { since?: number; limit?: number } = {}): PerceptEvent[] {
    const found = this.events.filter((e) => e.at >= (opts.since ?? 0)).sort((a, b) => a.at - b.at);
    return opts.limit !== undefined ? found.slice(Math.max(0, found.length - opts.limit)) : found;
  }

  async snapshot(id: string): Promise<Buffer | null> {
    return this.snapshots.get(id) ?? null;
  }
}
