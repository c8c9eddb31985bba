// YOLOv8 / YOLO11 exports: [1, 4 + C, N], channel-major (transposed against v5): cx, cy, w, h in
// input pixels, then C class scores, no objectness. One label per box, the best class.
// A [1, N, 4 + C] tensor is accepted too when the manifest's labels say which axis is which.

import type { Detection } from '../../types.js';
import { f32, i32 } from '../read.js';
import type { Geometry, ModelManifest, Outputs } from '../types.js';
import { badShape, Candidates, output, specOf, squeezeTo } from './common.js';

export function decodeYolov8(outputs: Outputs, manifest: ModelManifest, geom: Geometry): Detection[] {
  const spec = specOf(manifest, 'yolov8');
  const t = output(outputs, manifest, spec.output, 'yolov8');
  const labels = manifest.labels;
  const dims = squeezeTo(t.dims, 3);
  const name = spec.output ?? '';
  if (dims === undefined || dims[0] !== 1) throw badShape('yolov8', name, t.dims, '[1,4+classes,N]');
  // Channel-major unless the labels prove otherwise (or, without labels, the box count is the larger axis).
  const rowMajor = labels.length > 0 ? dims[2] === 4 + labels.length && dims[1] !== 4 + labels.length : false;
  const channels = rowMajor ? dims[2] : dims[1];
  const n = rowMajor ? dims[1] : dims[2];
  if (channels <= 4 || (labels.length > 0 && channels !== 4 + labels.length)) {
    const expected = labels.length > 0 ? `[1,${4 + labels.length},N] for the manifest's ${labels.length} labels` : '[1,4+classes,N]';
    throw badShape('yolov8', name, t.dims, expected);
  }
  const classes = channels - 4;
  const data = t.data;
  // Element (channel c, box i) lives at c * cs + i * is.
  const cs = rowMajor ? 1 : n;
  const is = rowMajor ? channels : 1;
  // Best class per box, scanned class by class so channel-major data is read sequentially.
  const best = new Float32Array(n);
  const bestClass = new Int32Array(n);
  for (let i = 0; i < n; i++) best[i] = f32(data, 4 * cs + i * is);
  for (let c = 1; c < classes; c++) {
    const base = (4 + c) * cs;
    for (let i = 0; i < n; i++) {
      const v = f32(data, base + i * is);
      if (v > f32(best, i)) {
        best[i] = v;
        bestClass[i] = c;
      }
    }
  }
  const threshold = spec.scoreThreshold;
  const found = new Candidates();
  for (let i = 0; i < n; i++) {
    const score = f32(best, i);
    if (score < threshold) continue;
    const cx = f32(data, i * is),
      cy = f32(data, cs + i * is),
      hw = f32(data, 2 * cs + i * is) / 2,
      hh = f32(data, 3 * cs + i * is) / 2;
    found.push(cx - hw, cy - hh, cx + hw, cy + hh, score, i32(bestClass, i));
  }
  return found.toDetections(labels, geom, spec.nms, spec.maxDetections);
}
