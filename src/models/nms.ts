// Greedy non-maximum suppression over flat typed arrays: plain (keep the best box, drop its
// overlaps) and weighted (MediaPipe: average the overlaps into the kept box). Class-wise NMS only
// lets boxes of the same class suppress each other; class-agnostic lets any box do it.

import type { Box } from '../types.js';
import { f64, num, u32 } from './read.js';
import type { NmsSpec } from './types.js';

/** Intersection over union of boxes i and j of two flat [x0,y0,x1,y1,...] arrays. */
export function iouAt(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number): number {
  const ax0 = num(a, i * 4),
    ay0 = num(a, i * 4 + 1),
    ax1 = num(a, i * 4 + 2),
    ay1 = num(a, i * 4 + 3);
  const bx0 = num(b, j * 4),
    by0 = num(b, j * 4 + 1),
    bx1 = num(b, j * 4 + 2),
    by1 = num(b, j * 4 + 3);
  const iw = Math.min(ax1, bx1) - Math.max(ax0, bx0);
  const ih = Math.min(ay1, by1) - Math.max(ay0, by0);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter;
  return union > 0 ? inter / union : 0;
}

export function iou(a: Readonly<Box>, b: Readonly<Box>): number {
  return iouAt(a, 0, b, 0);
}

/** Indices ordered by descending score (ties keep their original order). */
export function byScore(scores: ArrayLike<number>, n = scores.length): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order.sort((x, y) => num(scores, y) - num(scores, x) || x - y);
}

/**
 * Plain greedy NMS. `boxes` holds n boxes as [x0,y0,x1,y1]; `classes` may be omitted for
 * single-class input. Returns the kept indices, best first, at most `maxDetections`.
 */
export function nms(
  boxes: ArrayLike<number>,
  scores: ArrayLike<number>,
  classes: ArrayLike<number> | undefined,
  spec: Pick<NmsSpec, 'iou' | 'classAgnostic'>,
  maxDetections: number,
): Uint32Array {
  const n = scores.length;
  const order = byScore(scores, n);
  const suppressed = new Uint8Array(n);
  const keep = new Uint32Array(Math.min(n, maxDetections));
  const agnostic = spec.classAgnostic || classes === undefined;
  let kept = 0;
  for (let a = 0; a < n && kept < keep.length; a++) {
    const i = u32(order, a);
    if (suppressed[i]) continue;
    keep[kept++] = i;
    for (let b = a + 1; b < n; b++) {
      const j = u32(order, b);
      if (suppressed[j] || (!agnostic && classes[i] !== classes[j])) continue;
      if (iouAt(boxes, i, boxes, j) > spec.iou) suppressed[j] = 1;
    }
  }
  return keep.subarray(0, kept);
}

export interface WeightedNmsResult {
  /** Index of the best box of each cluster, best first. */
  keep: Uint32Array;
  /** Score-weighted mean box of each cluster (4 numbers each). */
  boxes: Float32Array;
  /** Score-weighted mean of the extra per-box values (e.g. key points), `stride` each. */
  extra: Float32Array;
}

/**
 * Weighted NMS as MediaPipe's TensorsToDetections does it: each kept box becomes the score-weighted
 * average of itself and every box it suppresses, which steadies BlazeFace boxes between frames.
 * `extra` holds `stride` values per box averaged the same way.
 */
export function weightedNms(
  boxes: ArrayLike<number>,
  scores: ArrayLike<number>,
  classes: ArrayLike<number> | undefined,
  spec: Pick<NmsSpec, 'iou' | 'classAgnostic'>,
  maxDetections: number,
  extra?: ArrayLike<number>,
  stride = 0,
): WeightedNmsResult {
  const n = scores.length;
  const order = byScore(scores, n);
  const taken = new Uint8Array(n);
  const limit = Math.min(n, maxDetections);
  const keep = new Uint32Array(limit);
  const outBoxes = new Float32Array(limit * 4);
  const outExtra = new Float32Array(limit * stride);
  const agnostic = spec.classAgnostic || classes === undefined;
  const acc = new Float64Array(4 + stride);
  const extraValues: ArrayLike<number> = extra ?? [];
  let kept = 0;
  for (let a = 0; a < n && kept < limit; a++) {
    const i = u32(order, a);
    if (taken[i]) continue;
    acc.fill(0);
    let total = 0;
    for (let b = a; b < n; b++) {
      const j = u32(order, b);
      if (taken[j] || (!agnostic && classes[i] !== classes[j])) continue;
      if (j !== i && iouAt(boxes, i, boxes, j) <= spec.iou) continue;
      taken[j] = 1;
      const w = num(scores, j);
      total += w;
      for (let k = 0; k < 4; k++) acc[k] = f64(acc, k) + num(boxes, j * 4 + k) * w;
      for (let k = 0; k < stride; k++) acc[4 + k] = f64(acc, 4 + k) + num(extraValues, j * stride + k) * w;
    }
    keep[kept] = i;
    for (let k = 0; k < 4; k++) outBoxes[kept * 4 + k] = total > 0 ? f64(acc, k) / total : num(boxes, i * 4 + k);
    for (let k = 0; k < stride; k++) outExtra[kept * stride + k] = total > 0 ? f64(acc, 4 + k) / total : num(extraValues, i * stride + k);
    kept++;
  }
  return { keep: keep.subarray(0, kept), boxes: outBoxes.subarray(0, kept * 4), extra: outExtra.subarray(0, kept * stride) };
}
