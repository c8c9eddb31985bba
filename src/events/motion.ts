// The motion detector of the gate: a small grey frame against a running average of the scene.
// Pixels that differ by more than a threshold, dilated and grouped into regions whose outline
// encloses more than a minimum area, are motion. A change over most of the frame at once (a
// light switched, an IR filter flipping) is not motion: the detector recalibrates on it.

import type { Box } from '../types.js';

export interface MotionSettings {
  /** Grey levels (0..255, after contrast stretch and blur) a pixel must differ from the background by. */
  threshold: number;
  /** Area, in pixels of the motion grid, a region's outline must enclose to count as motion. */
  minArea: number;
  /** Weight of each new still frame in the running-average background (0..1). */
  backgroundWeight: number;
  /** Share of the frame (0..1) that, changing at once, means a lighting change: recalibrate. */
  recalibrateFraction: number;
  /** Stretch each frame's grey levels to the recent range before comparing (dim scenes, fog). */
  improveContrast: boolean;
}

/** A polygon in normalised coordinates (0..1, x right, y down), at least three points. */
export type Polygon = Array<[number, number]>;

/** A grey image, one byte per pixel, rows packed. */
export interface Grey {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface MotionReport {
  /** Regions above the minimum area, outside the masks (never on a frame that recalibrates). */
  motion: boolean;
  /** Those regions' bounding boxes, normalised [x0, y0, x1, y1]. */
  boxes: Box[];
  /** Share of the frame the changed regions cover (the recalibration test). */
  changed: number;
  /** Learning a new background (start, or after a lighting change), at a higher weight. */
  calibrating: boolean;
}

/** Calibrated again once less than this share of the frame changes, in at most this many regions. */
const CALM_FRACTION = 0.05;
const CALM_REGIONS = 4;
/** Background weight while calibrating: a new scene is learnt in a few frames. */
const CALIBRATION_WEIGHT = 0.2;
/** A difference that lasts this many frames starts to blend into the background. */
const PERSISTENT_FRAMES = 10;
/** Frames whose grey range (4th to 96th percentile) the contrast stretch averages. */
const CONTRAST_HISTORY = 50;

/**
 * One source's detector. `detect` takes frames of one size in capture order; a frame of
 * another size (the source changed resolution) starts a new background.
 */
export class MotionDetector {
  #settings: MotionSettings;
  #masks: Polygon[];
  #w = 0;
  #h = 0;
  #bg: Float32Array = new Float32Array(0);
  #hasBg = false;
  #calibrating = true;
  #motionRun = 0;
  #mask: Uint8Array | null = null;
  // Work buffers, sized with the grid and reused.
  #cur = new Uint8Array(0);
  #tmp = new Uint16Array(0);
  #bin = new Uint8Array(0);
  #dil = new Uint8Array(0);
  #lab = new Int32Array(0);
  #stack = new Int32Array(0);
  readonly #hist = new Uint32Array(256);
  readonly #lut = new Uint8Array(256);
  readonly #lows = new Uint8Array(CONTRAST_HISTORY);
  readonly #highs = new Uint8Array(CONTRAST_HISTORY).fill(255);
  #lowSum = 0;
  #highSum = 255 * CONTRAST_HISTORY;
  #contrastAt = 0;

  constructor(settings: MotionSettings, masks: Polygon[] = []) {
    this.#settings = { ...settings };
    this.#masks = masks;
  }

  /** New settings apply from the next frame; new masks start a new background. */
  configure(settings: MotionSettings, masks: Polygon[] = this.#masks): void {
    this.#settings = { ...settings };
    if (JSON.stringify(masks) !== JSON.stringify(this.#masks)) {
      this.#masks = masks;
      this.#mask = this.#w ? rasterise(masks, this.#w, this.#h) : null;
      this.reset();
    }
  }

  /** Forgets the background: the next frame starts a calibration. */
  reset(): void {
    this.#hasBg = false;
    this.#calibrating = true;
    this.#motionRun = 0;
  }

  get calibrating(): boolean {
    return this.#calibrating;
  }

  detect(frame: Grey): MotionReport {
    if (frame.width !== this.#w || frame.height !== this.#h) this.#resize(frame.width, frame.height);
    const n = this.#w * this.#h;
    const s = this.#settings;
    if (!this.#hasBg) {
      // The contrast range starts from this frame's, not from 0..255 drifting in over seconds.
      this.#resetContrast(frame.data);
      this.#prepare(frame.data, false);
      for (let i = 0; i < n; i++) this.#bg[i] = this.#cur[i]!;
      this.#hasBg = true;
      this.#calibrating = true;
      return { motion: false, boxes: [], changed: 0, calibrating: true };
    }
    this.#prepare(frame.data, true);
    const { boxes, area } = this.#regions(s.threshold, s.minArea);
    const changed = area / n;
    if (changed > s.recalibrateFraction) {
      // The whole scene changed at once: learn it as the new background, from this frame, with
      // the contrast range of this frame alone (the history would drag the old range along).
      this.#resetContrast(frame.data);
      this.#prepare(frame.data, false);
      for (let i = 0; i < n; i++) this.#bg[i] = this.#cur[i]!;
      this.#calibrating = true;
      this.#motionRun = 0;
      return { motion: false, boxes: [], changed, calibrating: true };
    }
    if (this.#calibrating && changed < CALM_FRACTION && boxes.length <= CALM_REGIONS) this.#calibrating = false;
    const weight = this.#calibrating ? CALIBRATION_WEIGHT : s.backgroundWeight;
    if (boxes.length > 0) {
      // A moving object stays out of the background; something that arrives and stays is
      // blended in slowly once it has differed for a while.
      if (++this.#motionRun >= PERSISTENT_FRAMES) this.#blend(weight);
    } else {
      this.#motionRun = 0;
      this.#blend(weight);
    }
    // While calibrating the background is learnt faster, but what moves is still motion.
    return { motion: boxes.length > 0, boxes, changed, calibrating: this.#calibrating };
  }

  #resize(w: number, h: number): void {
    const n = w * h;
    this.#w = w;
    this.#h = h;
    this.#bg = new Float32Array(n);
    this.#cur = new Uint8Array(n);
    this.#tmp = new Uint16Array(n);
    this.#bin = new Uint8Array(n);
    this.#dil = new Uint8Array(n);
    this.#lab = new Int32Array(n);
    this.#stack = new Int32Array(n);
    this.#mask = this.#masks.length ? rasterise(this.#masks, w, h) : null;
    this.reset();
  }

  /** Contrast stretch (with the frame's range entering the history), mask, then a 3x3 blur into #cur. */
  #prepare(src: Uint8Array, learnContrast: boolean): void {
    const n = this.#w * this.#h;
    const cur = this.#cur;
    if (this.#settings.improveContrast) {
      if (learnContrast) {
        const [lo, hi] = this.#range(src, n);
        // A flat frame (lens covered, all black) says nothing about the range.
        if (lo < hi) this.#pushRange(lo, hi);
      }
      const lo = this.#lowSum / CONTRAST_HISTORY;
      const hi = this.#highSum / CONTRAST_HISTORY;
      const lut = this.#lut;
      const span = Math.max(1, hi - lo);
      for (let v = 0; v < 256; v++) lut[v] = v <= lo ? 0 : v >= hi ? 255 : Math.floor(((v - lo) * 255) / span);
      for (let i = 0; i < n; i++) cur[i] = lut[src[i]!]!;
    } else {
      cur.set(src.subarray(0, n));
    }
    // Masked pixels are held at 0 in every frame and in the background, so they never differ.
    const mask = this.#mask;
    if (mask) for (let i = 0; i < n; i++) if (mask[i]) cur[i] = 0;
    this.#blur();
  }

  /** The 4th and 96th percentiles of the grey levels. */
  #range(src: Uint8Array, n: number): [number, number] {
    const hist = this.#hist;
    hist.fill(0);
    for (let i = 0; i < n; i++) hist[src[i]!]!++;
    const loRank = Math.floor(n * 0.04);
    const hiRank = Math.floor(n * 0.96);
    let lo = 0;
    let hi = 255;
    let acc = 0;
    let v = 0;
    for (; v < 256; v++) {
      acc += hist[v]!;
      if (acc > loRank) {
        lo = v;
        break;
      }
    }
    for (; v < 256; v++) {
      if (acc > hiRank) {
        hi = v;
        break;
      }
      acc += hist[v + 1] ?? 0;
    }
    return [lo, hi];
  }

  #pushRange(lo: number, hi: number): void {
    const at = this.#contrastAt;
    this.#lowSum += lo - this.#lows[at]!;
    this.#highSum += hi - this.#highs[at]!;
    this.#lows[at] = lo;
    this.#highs[at] = hi;
    this.#contrastAt = (at + 1) % CONTRAST_HISTORY;
  }

  #resetContrast(src: Uint8Array): void {
    const [lo, hi] = this.#range(src, this.#w * this.#h);
    if (lo >= hi) return;
    this.#lows.fill(lo);
    this.#highs.fill(hi);
    this.#lowSum = lo * CONTRAST_HISTORY;
    this.#highSum = hi * CONTRAST_HISTORY;
  }

  /** Binomial 3x3 blur (1 2 1 by 1 2 1, a Gaussian of sigma about 0.7), edges repeated, in place on #cur. */
  #blur(): void {
    const w = this.#w;
    const h = this.#h;
    const a = this.#cur;
    const t = this.#tmp;
    for (let y = 0; y < h; y++) {
      const r = y * w;
      for (let x = 0; x < w; x++) {
        const c = a[r + x]!;
        t[r + x] = (x > 0 ? a[r + x - 1]! : c) + 2 * c + (x < w - 1 ? a[r + x + 1]! : c);
      }
    }
    for (let y = 0; y < h; y++) {
      const up = y > 0 ? -w : 0;
      const down = y < h - 1 ? w : 0;
      for (let x = 0, i = y * w; x < w; x++, i++) a[i] = (t[i + up]! + 2 * t[i]! + t[i + down]! + 8) >> 4;
    }
  }

  #blend(weight: number): void {
    const bg = this.#bg;
    const cur = this.#cur;
    for (let i = 0, n = bg.length; i < n; i++) bg[i]! += (cur[i]! - bg[i]!) * weight;
  }

  /**
   * Thresholded difference, dilated 3x3, holes filled, then 8-connected regions. A region's
   * area is what its outline (through its boundary pixels' centres) encloses, by Pick's
   * theorem: pixels - boundary/2 - 1, as a contour-tracing detector measures it.
   */
  #regions(threshold: number, minArea: number): { boxes: Box[]; area: number } {
    const w = this.#w;
    const h = this.#h;
    const n = w * h;
    const bg = this.#bg;
    const cur = this.#cur;
    const bin = this.#bin;
    const dil = this.#dil;
    for (let i = 0; i < n; i++) {
      const b = Math.min(255, Math.round(bg[i]!));
      const d = cur[i]! - b;
      bin[i] = d > threshold || -d > threshold ? 1 : 0;
    }
    // Dilation, separable: horizontal into dil, vertical back into bin.
    for (let y = 0; y < h; y++) {
      const r = y * w;
      for (let x = 0; x < w; x++) dil[r + x] = bin[r + x]! | (x > 0 ? bin[r + x - 1]! : 0) | (x < w - 1 ? bin[r + x + 1]! : 0);
    }
    let any = 0;
    for (let i = 0; i < n; i++) {
      const v = dil[i]! | (i >= w ? dil[i - w]! : 0) | (i + w < n ? dil[i + w]! : 0);
      bin[i] = v;
      any |= v;
    }
    if (!any) return { boxes: [], area: 0 };
    // Fill holes: still pixels not reachable from the border (4-connected) belong to the region around them.
    const lab = this.#lab;
    const stack = this.#stack;
    lab.fill(0);
    let sp = 0;
    const seed = (i: number) => {
      if (!bin[i] && !lab[i]) {
        lab[i] = -1;
        stack[sp++] = i;
      }
    };
    for (let x = 0; x < w; x++) {
      seed(x);
      seed((h - 1) * w + x);
    }
    for (let y = 0; y < h; y++) {
      seed(y * w);
      seed(y * w + w - 1);
    }
    while (sp > 0) {
      const i = stack[--sp]!;
      const x = i % w;
      if (x > 0) seed(i - 1);
      if (x < w - 1) seed(i + 1);
      if (i >= w) seed(i - w);
      if (i + w < n) seed(i + w);
    }
    for (let i = 0; i < n; i++) {
      bin[i] = lab[i] === -1 ? 0 : 1;
      lab[i] = 0;
    }
    const boxes: Box[] = [];
    let total = 0;
    let next = 0;
    for (let start = 0; start < n; start++) {
      if (!bin[start] || lab[start]) continue;
      const id = ++next;
      lab[start] = id;
      stack[0] = start;
      sp = 1;
      let pixels = 0;
      let boundary = 0;
      let x0 = w;
      let y0 = h;
      let x1 = -1;
      let y1 = -1;
      while (sp > 0) {
        const i = stack[--sp]!;
        const x = i % w;
        const y = (i - x) / w;
        pixels++;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
        if (x === 0 || x === w - 1 || y === 0 || y === h - 1 || !bin[i - 1] || !bin[i + 1] || !bin[i - w] || !bin[i + w]) boundary++;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= h) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if (xx < 0 || xx >= w) continue;
            const j = yy * w + xx;
            if (bin[j] && !lab[j]) {
              lab[j] = id;
              stack[sp++] = j;
            }
          }
        }
      }
      const area = Math.max(0, pixels - boundary / 2 - 1);
      total += area;
      if (area > minArea) boxes.push([x0 / w, y0 / h, (x1 + 1) / w, (y1 + 1) / h]);
    }
    return { boxes, area: total };
  }
}

/** 1 for each grid pixel whose centre lies inside any polygon (even-odd rule). */
export function rasterise(polygons: Polygon[], w: number, h: number): Uint8Array | null {
  if (polygons.length === 0) return null;
  const out = new Uint8Array(w * h);
  for (const poly of polygons) {
    for (let y = 0; y < h; y++) {
      const py = (y + 0.5) / h;
      for (let x = 0; x < w; x++) {
        const px = (x + 0.5) / w;
        let inside = false;
        for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
          const [xi, yi] = poly[i]!;
          const [xj, yj] = poly[j]!;
          if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
        }
        if (inside) out[y * w + x] = 1;
      }
    }
  }
  return out;
}
