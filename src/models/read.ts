// Reading typed arrays in the decoders and NMS. Their indices are in range by construction:
// output() checks each tensor's length against its shape and the decoders check the shape, and
// NMS only indexes below its box count. So these never throw; if one does, it is a decoder bug,
// reported as ERR_DECODE instead of arithmetic on undefined. One function per array type keeps
// every call site monomorphic, so the optimised decoders pay nothing for the check.

import { PerceptError } from '../errors.js';

function pastEnd(k: number, length: number): PerceptError {
  return new PerceptError('ERR_DECODE', `decoder read index ${k} of an array of ${length} values; this is a bug in percept's decoder, please report it`);
}

export function f32(a: Float32Array, k: number): number {
  const v = a[k];
  if (v === undefined) throw pastEnd(k, a.length);
  return v;
}

export function f64(a: Float64Array, k: number): number {
  const v = a[k];
  if (v === undefined) throw pastEnd(k, a.length);
  return v;
}

export function i32(a: Int32Array, k: number): number {
  const v = a[k];
  if (v === undefined) throw pastEnd(k, a.length);
  return v;
}

export function u32(a: Uint32Array, k: number): number {
  const v = a[k];
  if (v === undefined) throw pastEnd(k, a.length);
  return v;
}

/** Any array of numbers (slower when one call site sees several array types). */
export function num(a: ArrayLike<number>, k: number): number {
  const v = a[k];
  if (v === undefined) throw pastEnd(k, a.length);
  return v;
}
