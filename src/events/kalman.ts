// A constant-velocity Kalman filter for one box: the centre and the size as four independent
// (position, velocity) pairs, with noise proportional to the box's height as ByteTrack scales
// it, so small and large objects are followed with the same relative tolerance.

import type { Box } from '../types.js';

/** ByteTrack's weights: position noise 1/20 of the height, velocity noise 1/160. */
const STD_POSITION = 1 / 20;
const STD_VELOCITY = 1 / 160;

/** One coordinate: position p, velocity v, covariance [[a, b], [b, c]]. */
class Axis {
  p: number;
  v = 0;
  a: number;
  b = 0;
  c: number;

  constructor(p: number, scale: number) {
    this.p = p;
    this.a = (2 * STD_POSITION * scale) ** 2;
    this.c = (10 * STD_VELOCITY * scale) ** 2;
  }

  /** `dt` frames ahead (a fraction when frames come closer than the rate, several when some were not looked at). */
  predict(scale: number, move: boolean, dt: number): void {
    if (move) this.p += this.v * dt;
    // P = F P F' + Q with F = [[1, dt], [0, 1]], the noise of one frame times dt (a random walk).
    this.a += 2 * dt * this.b + dt * dt * this.c + dt * (STD_POSITION * scale) ** 2;
    this.b += dt * this.c;
    this.c += dt * (STD_VELOCITY * scale) ** 2;
  }

  update(z: number, scale: number): void {
    const r = (STD_POSITION * scale) ** 2;
    const s = this.a + r;
    const ka = this.a / s;
    const kb = this.b / s;
    const y = z - this.p;
    this.p += ka * y;
    this.v += kb * y;
    const a = this.a;
    const b = this.b;
    this.a = (1 - ka) * a;
    this.b = (1 - ka) * b;
    this.c -= kb * b;
  }
}

export class BoxFilter {
  readonly #axes: [Axis, Axis, Axis, Axis];

  constructor(box: Box) {
    const [cx, cy, w, h] = toCenter(box);
    this.#axes = [new Axis(cx, h), new Axis(cy, h), new Axis(w, h), new Axis(h, h)];
  }

  /**
   * `frames` of the source ahead (1 by default; more when frames between were skipped or
   * dropped, so the prediction keeps up with the object's speed). While the object is unseen its
   * size is not extrapolated (a box that grew as the object entered the frame would otherwise
   * keep growing), and a prediction that has left the frame stops there.
   */
  predict(seenLastFrame: boolean, frames = 1): void {
    const [x, y, w, h] = this.#axes;
    const scale = Math.max(h.p, 1e-3);
    const dt = Math.max(frames, 0);
    x.predict(scale, true, dt);
    y.predict(scale, true, dt);
    w.predict(scale, seenLastFrame, dt);
    h.predict(scale, seenLastFrame, dt);
    if (x.p < 0 || x.p > 1) x.v = 0;
    if (y.p < 0 || y.p > 1) y.v = 0;
  }

  update(box: Box): void {
    const z = toCenter(box);
    const scale = Math.max(z[3], 1e-3);
    this.#axes.forEach((axis, i) => axis.update(z[i] ?? 0, scale));
  }

  /** Forget the motion (a stationary object). */
  stop(): void {
    for (const axis of this.#axes) axis.v = 0;
  }

  get box(): Box {
    const [x, y, w, h] = this.#axes;
    const hw = Math.max(w.p, 0) / 2;
    const hh = Math.max(h.p, 0) / 2;
    return [x.p - hw, y.p - hh, x.p + hw, y.p + hh];
  }

  /** Centre velocity per frame, normalised. */
  get velocity(): [number, number] {
    return [this.#axes[0].v, this.#axes[1].v];
  }
}

function toCenter(b: Box): [number, number, number, number] {
  return [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[2] - b[0], b[3] - b[1]];
}

export function iou(a: Box, b: Box): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}
