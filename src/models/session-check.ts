// Checking a manifest against a loaded ONNX session before the first frame, so a wrong input
// name, size or layout, or a label count that does not fit the model's classes, fails once at
// load with ERR_MANIFEST_MISMATCH saying what to fix, instead of an error on every frame.

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

/** Outputs are described the same way (`session.outputMetadata`). */
export type OutputMetadata = InputMetadata;

export function checkAgainstSession(
  manifest: ModelManifest,
  inputNames: readonly string[],
  outputNames: readonly string[],
  inputMetadata?: readonly InputMetadata[],
  outputMetadata?: readonly OutputMetadata[],
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
  if (outputMetadata !== undefined) problems.push(...labelProblems(manifest, outputMetadata));
  if (problems.length > 0) {
    const where = manifest.manifestFile !== undefined ? ` ${manifest.manifestFile}` : '';
    throw new PerceptError('ERR_MANIFEST_MISMATCH', `model '${manifest.name}' does not match its manifest${where}: ${problems.join('; ')}`);
  }
}

/**
 * The label count against the class axis of the output each decoder reads, where the model
 * fixes it. Without labels, classes are reported by index and anything fits.
 */
function labelProblems(manifest: ModelManifest, outputs: readonly OutputMetadata[]): string[] {
  const n = manifest.labels.length;
  if (n === 0) return [];
  const d = manifest.decoder;
  const shapeOf = (name: string | undefined) => {
    const m = outputs.find((o) => o.name === name);
    return m?.isTensor === false ? undefined : m?.shape;
  };
  const fixed = (v: number | string | undefined): v is number => typeof v === 'number' && v > 0;
  const fix = manifest.labelsFile !== undefined ? `fix the labels file ${manifest.labelsFile}` : "fix the manifest's labels";
  const says = (name: string, shape: ReadonlyArray<number | string>, classes: number | string) =>
    `the manifest lists ${n} labels but output '${name}' [${shape.join(',')}] has ${classes} classes; ${fix} (or use the manifest made for this model)`;
  switch (d.type) {
    case 'yolox':
    case 'yolov5': {
      const shape = shapeOf(d.output);
      const last = shape?.at(-1);
      if (shape === undefined || shape.length < 2 || !fixed(last) || last <= 5) return [];
      return last - 5 === n ? [] : [says(d.output!, shape, last - 5)];
    }
    case 'yolov8': {
      const shape = shapeOf(d.output);
      if (shape === undefined || shape.length !== 3 || !fixed(shape[1]) || !fixed(shape[2])) return [];
      // Channel-major [1,4+C,N] or row-major [1,N,4+C]: either axis may hold the classes.
      if (shape[1] === 4 + n || shape[2] === 4 + n) return [];
      return [says(d.output!, shape, `${shape[1] - 4} or ${shape[2] - 4}`)];
    }
    case 'classification': {
      const shape = shapeOf(d.output);
      if (shape === undefined || !shape.every(fixed)) return [];
      const classes = (shape as number[]).reduce((a, b) => a * b, 1);
      return classes === n ? [] : [says(d.output!, shape, classes)];
    }
    case 'ssd': {
      // Per-class scores [1,N,C]: label k is class k + labelOffset, so the labels must fit in C.
      const shape = shapeOf(d.scores);
      const last = shape?.at(-1);
      if (shape === undefined || shape.length !== 3 || !fixed(last)) return [];
      return n + d.labelOffset <= last ? [] : [says(d.scores, shape, `${last} (labelOffset ${d.labelOffset})`)];
    }
    default:
      return [];
  }
}

function shapeProblems(manifest: ModelManifest, meta: InputMetadata): string[] {
  const input = manifest.input;
  if (meta.isTensor === false) return [`model input '${meta.name}' is not a tensor; percept feeds one image tensor`];
  const shape = meta.shape;
  if (shape === undefined) return [];
  const shown = `[${shape.join(',')}]`;
  if (shape.length !== 4) return [`model input '${meta.name}' has shape ${shown}, expected 4 dims (${input.layout}); is this an image model?`];
  const fixed = (d: number | string | undefined): d is number => typeof d === 'number' && d > 0;
  const [, d1, d2, d3] = shape;
  const out: string[] = [];
  // The channel axis tells the layout apart: 3 at index 1 is NCHW, 3 at index 3 is NHWC.
  const channels = input.layout === 'NCHW' ? d1 : d3;
  const other = input.layout === 'NCHW' ? d3 : d1;
  if (fixed(channels) && channels !== 3) {
    const hint =
      fixed(other) && other === 3
        ? `the model looks ${input.layout === 'NCHW' ? 'NHWC' : 'NCHW'}; fix the manifest's input.layout`
        : 'percept feeds 3-channel images';
    out.push(`model input '${meta.name}' ${shown} has ${channels} channels where the manifest's ${input.layout} layout puts them; ${hint}`);
    return out;
  }
  const h = input.layout === 'NCHW' ? d2 : d1;
  const w = input.layout === 'NCHW' ? d3 : d2;
  if ((fixed(h) && h !== input.height) || (fixed(w) && w !== input.width)) {
    out.push(
      `model input '${meta.name}' ${shown} is ${fixed(w) ? w : '?'}x${fixed(h) ? h : '?'} (WxH) but the manifest says ${input.width}x${input.height}; fix the manifest's input.width/height`,
    );
  }
  if (meta.type !== undefined && meta.type !== 'float32') {
    out.push(`model input '${meta.name}' takes ${meta.type}; percept feeds float32 tensors`);
  }
  return out;
}
