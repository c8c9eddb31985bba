// Turning a runtime tensor's data into the Float32Array the decoders read. Some exports give
// class ids or counts as int64 (Custom Vision) or int32; the decoders see only float32.

import type { TensorData } from './types.js';

type Numeric =
  Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | BigInt64Array | BigUint64Array | number[];

export function tensorData(data: Numeric, dims: readonly number[]): TensorData {
  if (data instanceof Float32Array) return { data, dims };
  const out = new Float32Array(data.length);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  } else {
    out.set(data);
  }
  return { data: out, dims };
}
