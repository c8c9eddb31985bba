// Zones and lines of one source, in normalised coordinates. A track is in a zone when the
// bottom centre of its box (where an object stands) is inside the polygon for a few frames in a
// row (inertia, so a box that jitters on the border does not enter and leave every frame); a
// line counts the tracks whose bottom centre crosses it, per direction. Pure, like the tracker.

import type { Box } from '../types.js';
import type { LineCount, ZoneCount } from './types.js';

export type Point = [number, number];

export interface ZoneDef {
  name: string;
  /** At least 3 points, normalised 0..1. */
  polygon: Point[];
}

export interface LineDef {
  name: string;
  /** At least 2 points, normalised 0..1: a polyline. */
  points: Point[];
}

/** What zones need of a track. */
export interface Placed {
  id: string;
  box: Box;
  seen: boolean;
}

/** Frames in a row a track must be inside (or outside) before it enters (or leaves). */
export const ZONE_INERTIA = 3;

interface Membership {
  inside: boolean;
  /** Frames in a row the point has been on the other side. */
  streak: number;
}

interface TrackPlace {
  /** Last seen bottom centre. */
  point: Point | null;
  zones: Map<string, Membership>;
}

export class ZoneBook {
  readonly #source: string;
  readonly #zones: ZoneDef[];
  readonly #lines: LineDef[];
  readonly #inertia: number;
  readonly #places = new Map<string, TrackPlace>();
  readonly #zoneCounts = new Map<string, { entered: number; exited: number }>();
  readonly #lineCounts = new Map<string, { forward: number; backward: number }>();

  constructor(source: string, zones: readonly ZoneDef[], lines: readonly LineDef[], inertia = ZONE_INERTIA) {
    this.#source = source;
    this.#zones = [...zones];
    this.#lines = [...lines];
    this.#inertia = inertia;
    for (const z of zones) this.#zoneCounts.set(z.name, { entered: 0, exited: 0 });
    for (const l of lines) this.#lineCounts.set(l.name, { forward: 0, backward: 0 });
  }

  get empty(): boolean {
    return this.#zones.length === 0 && this.#lines.length === 0;
  }

  /**
   * One frame's confirmed tracks. Returns the ids whose zones changed, and the line crossings
   * of this frame.
   */
  step(tracks: readonly Placed[]): { changed: Set<string>; crossings: Array<{ id: string; line: string; direction: 'forward' | 'backward' }> } {
    const changed = new Set<string>();
    const crossings: Array<{ id: string; line: string; direction: 'forward' | 'backward' }> = [];
    for (const t of tracks) {
      if (!t.seen) continue;
      const p = bottomCentre(t.box);
      let place = this.#places.get(t.id);
      if (!place) {
        place = { point: null, zones: new Map() };
        this.#places.set(t.id, place);
      }
      for (const z of this.#zones) {
        const inside = pointInPolygon(p, z.polygon);
        let m = place.zones.get(z.name);
        if (!m) {
          m = { inside: false, streak: 0 };
          place.zones.set(z.name, m);
        }
        if (inside === m.inside) {
          m.streak = 0;
          continue;
        }
        if (++m.streak < this.#inertia) continue;
        m.inside = inside;
        m.streak = 0;
        const c = this.#zoneCounts.get(z.name);
        if (c && inside) c.entered++;
        else if (c) c.exited++;
        changed.add(t.id);
      }
      if (place.point) {
        for (const l of this.#lines) {
          const dir = crossing(place.point, p, l.points);
          if (!dir) continue;
          const c = this.#lineCounts.get(l.name);
          if (c) c[dir]++;
          crossings.push({ id: t.id, line: l.name, direction: dir });
        }
      }
      place.point = p;
    }
    return { changed, crossings };
  }

  /** The zones a track is in now. */
  zonesOf(id: string): string[] {
    const place = this.#places.get(id);
    if (!place) return [];
    return this.#zones.filter((z) => place.zones.get(z.name)?.inside).map((z) => z.name);
  }

  /** A track ended: it leaves the zones it was in. */
  forget(id: string): void {
    for (const name of this.zonesOf(id)) {
      const c = this.#zoneCounts.get(name);
      if (c) c.exited++;
    }
    this.#places.delete(id);
  }

  zoneCounts(): ZoneCount[] {
    return this.#zones.map((z) => {
      const c = this.#zoneCounts.get(z.name) ?? { entered: 0, exited: 0 };
      let present = 0;
      for (const place of this.#places.values()) if (place.zones.get(z.name)?.inside) present++;
      return { source: this.#source, zone: z.name, entered: c.entered, exited: c.exited, present };
    });
  }

  lineCounts(): LineCount[] {
    return this.#lines.map((l) => {
      const c = this.#lineCounts.get(l.name) ?? { forward: 0, backward: 0 };
      return { source: this.#source, line: l.name, forward: c.forward, backward: c.backward };
    });
  }
}

export function bottomCentre(b: Box): Point {
  return [(b[0] + b[2]) / 2, b[3]];
}

/** Even-odd rule. */
export function pointInPolygon(p: Point, poly: readonly Point[]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const a = poly[i];
    const b = poly[j];
    if (!a || !b) continue;
    if (a[1] > p[1] !== b[1] > p[1] && p[0] < ((b[0] - a[0]) * (p[1] - a[1])) / (b[1] - a[1]) + a[0]) inside = !inside;
  }
  return inside;
}

/** z of (b - a) x (p - a): on the image (y down), negative on the left of a walk from a to b. */
function side(a: Point, b: Point, p: Point): number {
  return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
}

/**
 * Whether the step p0 -> p1 crosses the polyline, and which way: `forward` from the left of
 * the line (walking it from its first point to its last, on the image) to its right. A step
 * that crosses two segments of one polyline counts once.
 */
export function crossing(p0: Point, p1: Point, line: readonly Point[]): 'forward' | 'backward' | null {
  for (let i = 0; i + 1 < line.length; i++) {
    const a = line[i];
    const b = line[i + 1];
    if (!a || !b) continue;
    const s0 = side(a, b, p0);
    const s1 = side(a, b, p1);
    // The point may touch the line and come back: only a strict change of side counts.
    if (s0 === 0 || s1 === 0 || s0 > 0 === s1 > 0) continue;
    const t0 = side(p0, p1, a);
    const t1 = side(p0, p1, b);
    if (t0 > 0 === t1 > 0 && t0 !== 0 && t1 !== 0) continue;
    return s0 < 0 ? 'forward' : 'backward';
  }
  return null;
}
