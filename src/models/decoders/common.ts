// What every decoder needs: the decoder spec of the right type, outputs fetched and their shapes
// checked (ERR_DECODE with the expected shape in the message), label names, and the candidate
// list that runs NMS and maps the survivors back to source pixels.

import { PerceptError } from '../../errors.js';
import type { Detection } from '../../types.js';
import { pointToSource, toSource } from '../geometry.js';
import { nms, weightedNms } from '../nms.js';
import { f32, i32, u32 } from '../read.js';
import type { DecoderSpec, Geometry, ModelManifest, NmsSpec, Outputs, TensorData } from '../types.js';

export type SpecOf<T extends DecoderSpec['type']> = Extract<DecoderSpec, { type: T }>;

export function specOf<T extends DecoderSpec['type']>(manifest: ModelManifest, type: T): SpecOf<T> {
  if (manifest.decoder.type !== type) {
    throw new PerceptError('ERR_DECODE', `the ${type} decoder was given model '${manifest.name}' whose decoder is ${manifest.decoder.type}`);
  }
  return manifest.decoder as SpecOf<T>;
}

/** The named output, or the manifest's single output when the decoder names none. */
export function output(outputs: Outputs, manifest: ModelManifest, name: string | undefined, decoder: string): TensorData {
  const key = name ?? manifest.outputs[0];
  const t = key === undefined ? undefined : outputs[key];
  if (t === undefined) {
    throw new PerceptError(
      'ERR_DECODE',
      `${decoder} decoder: output '${key ?? '(none named)'}' of model '${manifest.name}' is missing from the results (got: ${Object.keys(outputs).join(', ') || 'nothing'}); check the manifest's outputs and decoder output names`,
    );
  }
  const size = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== size) {
    throw new PerceptError('ERR_DECODE', `${decoder} decoder: output '${key}' has ${t.data.length} values but its shape [${t.dims.join(',')}] needs ${size}`);
  }
  return t;
}

export type Dims2 = [number, number];
export type Dims3 = [number, number, number];

/** Drops leading 1-sized (batch) dims down to `rank`; returns undefined if that is impossible. */
export function squeezeTo(dims: readonly number[], rank: 2): Dims2 | undefined;
export function squeezeTo(dims: readonly number[], rank: 3): Dims3 | undefined;
export function squeezeTo(dims: readonly number[], rank: 2 | 3): Dims2 | Dims3 | undefined {
  const d = [...dims];
  while (d.length > rank && d[0] === 1) d.shift();
  while (d.length < rank) d.unshift(1);
  return d.length === rank ? (d as Dims2 | Dims3) : undefined;
}

export function badShape(decoder: string, name: string, dims: readonly number[], expected: string): PerceptError {
  return new PerceptError(
    'ERR_DECODE',
    `${decoder} decoder: output '${name}' has shape [${dims.join(',')}], expected ${expected}; is the manifest's decoder type right for this model?`,
  );
}

export function labelOf(labels: readonly string[], classId: number): string {
  return labels[classId] ?? `class_${classId}`;
}

/** Logistic sigmoid with the input clipped, as MediaPipe does, so huge logits stay finite. */
export function sigmoid(x: number, clip = 100): number {
  const v = x < -clip ? -clip : x > clip ? clip : x;
  return 1 / (1 + Math.exp(-v));
}

/** Growable candidate boxes in input pixels, with scores, classes and optional key points. */
export class Candidates {
  #boxes = new Float32Array(64 * 4);
  #scores = new Float32Array(64);
  #classes = new Int32Array(64);
  #points: Float32Array;
  readonly #pointCount: number;
  #n = 0;

  constructor(pointCount = 0) {
    this.#pointCount = pointCount;
    this.#points = new Float32Array(64 * pointCount * 2);
  }

  get length(): number {
    return this.#n;
  }

  /** Adds a box [x0,y0,x1,y1] in input pixels; `points` holds x,y pairs in input pixels. */
  push(x0: number, y0: number, x1: number, y1: number, score: number, classId: number, points?: Float32Array): void {
    if (this.#n === this.#scores.length) this.#grow();
    const n = this.#n++;
    this.#boxes[n * 4] = x0;
    this.#boxes[n * 4 + 1] = y0;
    this.#boxes[n * 4 + 2] = x1;
    this.#boxes[n * 4 + 3] = y1;
    this.#scores[n] = score;
    this.#classes[n] = classId;
    const stride = this.#pointCount * 2;
    if (points !== undefined) for (let k = 0; k < stride; k++) this.#points[n * stride + k] = f32(points, k);
  }

  /** Runs NMS and turns the survivors into detections in source pixels, best first. */
  toDetections(labels: readonly string[], geom: Geometry, spec: NmsSpec, maxDetections: number): Detection[] {
    const n = this.#n;
    const boxes = this.#boxes.subarray(0, n * 4);
    const scores = this.#scores.subarray(0, n);
    const classes = this.#classes.subarray(0, n);
    const stride = this.#pointCount * 2;
    let keep: Uint32Array;
    let outBoxes: Float32Array = boxes;
    let outPoints: Float32Array = this.#points;
    let slot: (a: number, i: number) => number;
    if (spec.weighted === true) {
      const r = weightedNms(boxes, scores, classes, spec, maxDetections, this.#points.subarray(0, n * stride), stride);
      keep = r.keep;
      outBoxes = r.boxes;
      outPoints = r.extra;
      slot = (a) => a;
    } else {
      keep = nms(boxes, scores, classes, spec, maxDetections);
      slot = (_a, i) => i;
    }
    const out: Detection[] = [];
    for (let a = 0; a < keep.length; a++) {
      const i = u32(keep, a);
      const s = slot(a, i);
      const mapped = toSource([f32(outBoxes, s * 4), f32(outBoxes, s * 4 + 1), f32(outBoxes, s * 4 + 2), f32(outBoxes, s * 4 + 3)], geom);
      // A box wholly in the letterbox padding or off the image collapses when clamped: nothing to report.
      if (mapped.box[2] <= mapped.box[0] || mapped.box[3] <= mapped.box[1]) continue;
      const classId = i32(classes, i);
      const d: Detection = { label: labelOf(labels, classId), classId, confidence: f32(scores, i), ...mapped };
      if (stride > 0) {
        d.keypoints = [];
        for (let k = 0; k < stride; k += 2) d.keypoints.push(pointToSource(f32(outPoints, s * stride + k), f32(outPoints, s * stride + k + 1), geom));
      }
      out.push(d);
    }
    return out;
  }

  #grow(): void {
    const cap = this.#scores.length * 2;
    const boxes = new Float32Array(cap * 4);
    boxes.set(this.#boxes);
    this.#boxes = boxes;
    const scores = new Float32Array(cap);
    scores.set(this.#scores);
    this.#scores = scores;
    const classes = new Int32Array(cap);
    classes.set(this.#classes);
    this.#classes = classes;
    const points = new Float32Array(cap * this.#pointCount * 2);
    points.set(this.#points);
    this.#points = points;
  }
}
