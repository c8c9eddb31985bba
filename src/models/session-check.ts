// Checking a manifest against a loaded ONNX session before the first frame, so a wrong input
// name, size or layout fails once at load with ERR_MANIFEST_MISMATCH saying what to fix,
// instead of an opaque onnxruntime error on every frame.

import { PerceptError } from '../errors.js';
import type { ModelManifest } from './types.js';

/** The part of onnxruntime-node's `session.inputMetadata` entries this check reads. */
export interface InputMetadata {
  name: string;
  isTensor?: boolean;
  type?: string;
  /** Numbers for fixed dims; strings (symbolic) or -1 for free ones. */
  shape?: ReadonlyArray<number | string>;
}

export function checkAgainstSession(
  manifest: ModelManifest,
  inputNames: readonly string[],
  outputNames: readonly string[],
  inputMetadata?: readonly InputMetadata[],
): void {
  const problems: string[] = [];
  const input = manifest.input;
  if (!inputNames.includes(input.name)) {
    problems.push(`manifest input '${input.name}' not among the model's inputs [${inputNames.join(', ')}]; fix the manifest's input.name`);
  }
  for (const name of manifest.outputs) {
    if (!outputNames.includes(name)) {
      problems.push(`manifest output '${name}' not among the model's outputs [${outputNames.join(', ')}]; fix the manifest's outputs and decoder output names`);
    }
  }
  const meta = inputMetadata?.find((m) => m.name === input.name);
  if (meta !== undefined) problems.push(...shapeProblems(manifest, meta));
  if (problems.length > 0) {
    throw new PerceptError('ERR_MANIFEST_MISMATCH', `model '${manifest.name}' does not match its manifest: ${problems.join('; ')}`);
  }
}

function shapeProblems(manifest: ModelManifest, meta: InputMetadata): string[] {
  const input = manifest.input;
  if (meta.isTensor === false) return [`model input '${meta.name}' is not a tensor; percept feeds one image tensor`];
  const shape = meta.shape;
  if (shape === undefined) return [];
  const shown = `[${shape.join(',')}]`;
  if (shape.length !== 4) return [`model input '${meta.name}' has shape ${shown}, expected 4 dims (${input.layout}); is this an image model?`];
  const fixed = (d: number | string): d is number => typeof d === 'number' && d > 0;
  const [, d1, d2, d3] = shape;
  const out: string[] = [];
  // The channel axis tells the layout apart: 3 at index 1 is NCHW, 3 at index 3 is NHWC.
  const channels = input.layout === 'NCHW' ? d1 : d3;
  const other = input.layout === 'NCHW' ? d3 : d1;
  if (fixed(channels) && channels !== 3) {
    const hint = fixed(other) && other === 3 ? `the model looks ${input.layout === 'NCHW' ? 'NHWC' : 'NCHW'}; fix the manifest's input.layout` : 'percept feeds 3-channel images';
    out.push(`model input '${meta.name}' ${shown} has ${channels} channels where the manifest's ${input.layout} layout puts them; ${hint}`);
    return out;
  }
  const h = input.layout === 'NCHW' ? d2 : d1;
  const w = input.layout === 'NCHW' ? d3 : d2;
  if ((fixed(h) && h !== input.height) || (fixed(w) && w !== input.width)) {
    out.push(`model input '${meta.name}' ${shown} is ${fixed(w) ? w : '?'}x${fixed(h) ? h : '?'} (WxH) but the manifest says ${input.width}x${input.height}; fix the manifest's input.width/height`);
  }
  if (meta.type !== undefined && meta.type !== 'float32') {
    out.push(`model input '${meta.name}' takes ${meta.type}; percept feeds float32 tensors`);
  }
  return out;
}
