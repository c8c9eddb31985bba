// Small helpers for the models tests: manifests with the schema's defaults, outputs as the
// decoders see them, ONNX Runtime outputs converted, and box comparison.

import assert from 'node:assert/strict';
import type { InferenceSession } from 'onnxruntime-node';
import { parseManifest, tensorData } from '../../src/models/index.js';
import type { Box } from '../../src/types.js';
import type { ModelManifest, Outputs } from '../../src/models/index.js';
import { at } from '../helpers/at.js';

/** A manifest from partial JSON: input defaults to a 64x64 NCHW `images`. */
export function manifest(decoder: Record<string, unknown>, extra: Record<string, unknown> = {}): ModelManifest {
  const { input, ...rest } = extra;
  return parseManifest(
    {
      name: 'test',
      input: { name: 'images', width: 64, height: 64, ...(input as object | undefined) },
      decoder,
      ...rest,
    },
    'test manifest',
  );
}

export function outputs(entries: Record<string, [ArrayLike<number>, number[]]>): Outputs {
  const out: Outputs = {};
  for (const [name, [data, dims]] of Object.entries(entries)) out[name] = { data: Float32Array.from(data), dims };
  return out;
}

/** Runs a session and hands its outputs over as float32, the way the decoders read them. */
export async function run(session: InferenceSession, feeds: InferenceSession.FeedsType): Promise<Outputs> {
  const r = await session.run(feeds);
  const out: Outputs = {};
  for (const [name, t] of Object.entries(r)) out[name] = tensorData(t.data as Float32Array, t.dims);
  return out;
}

export function iouOf(a: Box, b: readonly number[]): number {
  const iw = Math.min(at(a, 2), at(b, 2)) - Math.max(at(a, 0), at(b, 0));
  const ih = Math.min(at(a, 3), at(b, 3)) - Math.max(at(a, 1), at(b, 1));
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / ((at(a, 2) - at(a, 0)) * (at(a, 3) - at(a, 1)) + (at(b, 2) - at(b, 0)) * (at(b, 3) - at(b, 1)) - inter);
}

/** Asserts two boxes are equal to within `tol` on every coordinate. */
export function assertBox(actual: readonly number[], expected: readonly number[], tol = 1e-4, what = 'box'): void {
  assert.equal(actual.length, 4, `${what} has 4 numbers`);
  for (let i = 0; i < 4; i++) {
    assert.ok(Math.abs(at(actual, i) - at(expected, i)) <= tol, `${what} [${actual.join(', ')}] differs from [${expected.join(', ')}] at ${i}`);
  }
}

/** Detections summarised as "label score [x0,y0,x1,y1]" with rounding, for readable assertion diffs. */
export function summary(dets: Array<{ label: string; confidence: number; box: Box }>, digits = 2): string[] {
  return dets.map((d) => `${d.label} ${d.confidence.toFixed(digits)} [${d.box.map((v) => Math.round(v)).join(',')}]`);
}
