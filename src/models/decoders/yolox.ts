// YOLOX: [1, N, 5 + C] over anchor-free grids at each stride (row-major, strides in order);
// x, y are cell offsets, w, h log sizes, objectness and class scores already sigmoided.
// Each class above threshold in a cell is a candidate, as YOLOX's class-aware demo decodes.

import type { Detection } from '../../types.js';
import { f32 } from '../read.js';
import type { Geometry, ModelManifest, Outputs } from '../types.js';
import { badShape, Candidates, output, specOf, squeezeTo } from './common.js';

export function decodeYolox(outputs: Outputs, manifest: ModelManifest, geom: Geometry): Detection[] {
  const spec = specOf(manifest, 'yolox');
  const t = output(outputs, manifest, spec.output, 'yolox');
  const { width, height } = manifest.input;
  let cells = 0;
  for (const s of spec.strides) cells += Math.floor(width / s) * Math.floor(height / s);
  const labels = manifest.labels;
  const dims = squeezeTo(t.dims, 3);
  const expected = `[1,${cells},5+classes] for a ${width}x${height} input at strides ${spec.strides.join('/')}`;
  if (dims === undefined || dims[0] !== 1 || dims[1] !== cells || dims[2] <= 5) throw badShape('yolox', spec.output ?? '', t.dims, expected);
  const classes = dims[2] - 5;
  if (labels.length > 0 && labels.length !== classes) {
    throw badShape('yolox', spec.output ?? '', t.dims, `[1,${cells},${5 + labels.length}] for the manifest's ${labels.length} labels`);
  }
  const data = t.data;
  const row = dims[2];
  const threshold = spec.scoreThreshold;
  const agnostic = spec.nms.classAgnostic;
  const found = new Candidates();
  let i = 0;
  for (const stride of spec.strides) {
    const cols = Math.floor(width / stride);
    const rows = Math.floor(height / stride);
    for (let gy = 0; gy < rows; gy++) {
      for (let gx = 0; gx < cols; gx++, i++) {
        const o = i * row;
        const obj = f32(data, o + 4);
        // score = obj * cls <= obj: most cells are rejected here without reading their classes.
        if (obj < threshold) continue;
        const cx = (f32(data, o) + gx) * stride;
        const cy = (f32(data, o + 1) + gy) * stride;
        const w = Math.exp(f32(data, o + 2)) * stride;
        const h = Math.exp(f32(data, o + 3)) * stride;
        const x0 = cx - w / 2,
          y0 = cy - h / 2,
          x1 = cx + w / 2,
          y1 = cy + h / 2;
        if (agnostic) {
          let best = 0;
          let bestScore = f32(data, o + 5);
          for (let c = 1; c < classes; c++) {
            const v = f32(data, o + 5 + c);
            if (v > bestScore) {
              best = c;
              bestScore = v;
            }
          }
          const score = obj * bestScore;
          if (score >= threshold) found.push(x0, y0, x1, y1, score, best);
        } else {
          for (let c = 0; c < classes; c++) {
            const score = obj * f32(data, o + 5 + c);
            if (score >= threshold) found.push(x0, y0, x1, y1, score, c);
          }
        }
      }
    }
  }
  return found.toDetections(labels, geom, spec.nms, spec.maxDetections);
}
