// One frame's work in an inference worker: sharp decode and letterbox into a reused tensor
// buffer, session.run, decode. The inference worker and the benchmark's single-thread and
// naive loops all run it, so the bench's bound is measured on the worker's own code.

import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { preprocess } from './preprocess.js';
import type { Timings } from './protocol.js';
import { decode } from '../models/decode.js';
import { tensorData } from '../models/tensors.js';
import type { InputSpec, ModelManifest, Outputs } from '../models/types.js';
import type { Detection, FrameFormat } from '../types.js';

export interface FrameResult {
  width: number;
  height: number;
  detections: Detection[];
  timings: Timings;
}

/** Input tensor dimensions for the manifest's layout. */
export function inputDims(input: InputSpec): number[] {
  return input.layout === 'NCHW' ? [1, 3, input.height, input.width] : [1, input.height, input.width, 3];
}

/** Floats in one input tensor: the size of a reusable tensor buffer. */
export function tensorLength(input: InputSpec): number {
  return input.width * input.height * 3;
}

/**
 * Binds a session to its manifest. The returned function runs one frame into `tensor` (a
 * reused buffer of `tensorLength` floats); `decodeWith` is the manifest to decode with, when
 * live threshold overrides apply.
 */
export function frameRunner(
  session: ort.InferenceSession,
  manifest: ModelManifest,
): (data: Buffer, format: FrameFormat, width: number, height: number, tensor: Float32Array, decodeWith?: ModelManifest) => Promise<FrameResult> {
  const { input } = manifest;
  const dims = inputDims(input);
  const fetches = manifest.outputs.length ? manifest.outputs : [...session.outputNames];
  return async (data, format, width, height, tensor, decodeWith = manifest) => {
    const t0 = performance.now();
    const pre = await preprocess(data, format, width, height, input, tensor);
    const t1 = performance.now();
    const out = await session.run({ [input.name]: new ort.Tensor('float32', pre.tensor, dims) }, fetches);
    const t2 = performance.now();
    const outputs: Outputs = {};
    // int64 class ids (Custom Vision) and other integer outputs become float32 for the decoders.
    for (const [name, t] of Object.entries(out)) outputs[name] = tensorData(t.data as Parameters<typeof tensorData>[0], t.dims);
    const detections = decode(outputs, decodeWith, pre.geom);
    const t3 = performance.now();
    return { width: pre.geom.srcWidth, height: pre.geom.srcHeight, detections, timings: { preprocessMs: t1 - t0, inferenceMs: t2 - t1, decodeMs: t3 - t2 } };
  };
}
