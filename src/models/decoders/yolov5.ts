// YOLOv5 (and v7-style) exports: [1, N, 5 + C] rows of cx, cy, w, h in input pixels, objectness,
// then per-class scores, all already sigmoided. score = objectness x best class score, one label
// per box as Ultralytics' predict does.

import type { Detection } from '../../types.js';
import { f32 } from '../read.js';
import type { Geometry, ModelManifest, Outputs } from '../types.js';
import { badShape, Candidates, output, specOf, squeezeTo } from './common.js';

export function decodeYolov5(outputs: Outputs, manifest: ModelManifest, geom: Geometry): Detection[] {
  const spec = specOf(manifest, 'yolov5');
  const t = output(outputs, manifest, spec.output, 'yolov5');
  const labels = manifest.labels;
  const dims = squeezeTo(t.dims, 3);
  if (dims === undefined || dims[0] !== 1 || dims[2] <= 5) throw badShape('yolov5', spec.output ?? '', t.dims, '[1,N,5+classes]');
  const classes = dims[2] - 5;
  if (labels.length > 0 && labels.length !== classes) {
    throw badShape('yolov5', spec.output ?? '', t.dims, `[1,N,${5 + labels.length}] for the manifest's ${labels.length} labels`);
  }
  const n = dims[1];
  const row = dims[2];
  const data = t.data;
  const threshold = spec.scoreThreshold;
  const found = new Candidates();
  for (let i = 0; i < n; i++) {
    const o = i * row;
    const obj = f32(data, o + 4);
    if (obj < threshold) continue;
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
    if (score < threshold) continue;
    const cx = f32(data, o),
      cy = f32(data, o + 1),
      hw = f32(data, o + 2) / 2,
      hh = f32(data, o + 3) / 2;
    found.push(cx - hw, cy - hh, cx + hw, cy + hh, score, best);
  }
  return found.toDetections(labels, geom, spec.nms, spec.maxDetections);
}
