// Image classification: one output of C scores ([1,C], [C] or [1,C,1,1]); optional softmax,
// then the top-k classes above the threshold. Each result's box is the whole image.

import type { Detection } from '../../types.js';
import { f32, u32 } from '../read.js';
import type { Geometry, ModelManifest, Outputs } from '../types.js';
import { badShape, labelOf, output, specOf } from './common.js';

export function decodeClassification(outputs: Outputs, manifest: ModelManifest, geom: Geometry): Detection[] {
  const spec = specOf(manifest, 'classification');
  const t = output(outputs, manifest, spec.output, 'classification');
  const classes = t.data.length;
  // Every dim but one must be 1: a batch of images or a spatial map is not a classification.
  if (classes === 0 || t.dims.filter((d) => d !== 1).length > 1) throw badShape('classification', spec.output ?? '', t.dims, '[1,classes]');
  const labels = manifest.labels;
  if (labels.length > 0 && labels.length !== classes) {
    throw badShape('classification', spec.output ?? '', t.dims, `[1,${labels.length}] for the manifest's ${labels.length} labels`);
  }
  const scores = spec.softmax ? softmax(t.data) : t.data;
  const order = new Uint32Array(classes);
  for (let i = 0; i < classes; i++) order[i] = i;
  order.sort((a, b) => f32(scores, b) - f32(scores, a) || a - b);
  const out: Detection[] = [];
  for (let r = 0; r < Math.min(spec.topK, classes); r++) {
    const c = u32(order, r);
    const confidence = f32(scores, c);
    if (confidence < spec.scoreThreshold) break;
    out.push({
      label: labelOf(labels, c),
      classId: c,
      confidence,
      box: [0, 0, geom.srcWidth, geom.srcHeight],
      boxNorm: [0, 0, 1, 1],
    });
  }
  return out;
}

/** Softmax with the maximum subtracted first, so large logits do not overflow. */
export function softmax(x: Float32Array): Float32Array {
  let max = -Infinity;
  for (const v of x) if (v > max) max = v;
  const out = new Float32Array(x.length);
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += out[i] = Math.exp(f32(x, i) - max);
  for (let i = 0; i < x.length; i++) out[i] = f32(out, i) / sum;
  return out;
}
