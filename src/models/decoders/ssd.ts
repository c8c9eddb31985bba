// SSD-style exports with separate outputs, as the TF Object Detection API and Azure Custom
// Vision produce them: boxes [1,N,4], scores [1,N] (with classes [1,N]) or [1,N,C], and an
// optional detection count. Box order and units come from the manifest.

import type { Detection } from '../../types.js';
import { f32 } from '../read.js';
import type { Geometry, ModelManifest, Outputs } from '../types.js';
import { badShape, Candidates, output, specOf, squeezeTo } from './common.js';

export function decodeSsd(outputs: Outputs, manifest: ModelManifest, geom: Geometry): Detection[] {
  const spec = specOf(manifest, 'ssd');
  const boxes = output(outputs, manifest, spec.boxes, 'ssd');
  const scores = output(outputs, manifest, spec.scores, 'ssd');
  const bd = squeezeTo(boxes.dims, 3);
  if (bd === undefined || bd[0] !== 1 || bd[2] !== 4) throw badShape('ssd', spec.boxes, boxes.dims, '[1,N,4]');
  const n = bd[1];
  // Scores are [1,N] (one class per box, named by the classes output) or [1,N,C] (per class).
  const sd = scores.dims.length >= 3 ? squeezeTo(scores.dims, 3) : squeezeTo(scores.dims, 2);
  if (sd === undefined || sd[0] !== 1 || sd[1] !== n) throw badShape('ssd', spec.scores, scores.dims, `[1,${n}] or [1,${n},classes] (one row per box)`);
  const perClass = sd.length === 3 ? sd[2] : 0;
  let classIds: Float32Array | undefined;
  if (spec.classes !== undefined && perClass === 0) {
    const classes = output(outputs, manifest, spec.classes, 'ssd');
    const cd = squeezeTo(classes.dims, 2);
    if (cd === undefined || cd[0] !== 1 || cd[1] !== n) throw badShape('ssd', spec.classes, classes.dims, `[1,${n}]`);
    classIds = classes.data;
  }
  let count = n;
  if (spec.count !== undefined) {
    const c = output(outputs, manifest, spec.count, 'ssd');
    if (c.data.length !== 1) throw badShape('ssd', spec.count, c.dims, '[1] (the number of valid boxes)');
    count = Math.max(0, Math.min(n, Math.round(f32(c.data, 0))));
  }

  const labels = manifest.labels;
  const offset = spec.labelOffset;
  const threshold = spec.scoreThreshold;
  const yx = spec.boxFormat === 'yxyx';
  const sx = spec.boxUnits === 'normalized' ? manifest.input.width : 1;
  const sy = spec.boxUnits === 'normalized' ? manifest.input.height : 1;
  // Model class k is label k - offset; classes below the offset (background) are never reported.
  const first = Math.max(0, offset);
  const last = labels.length > 0 ? Math.min(perClass, labels.length + offset) : perClass;
  const b = boxes.data;
  const s = scores.data;
  const found = new Candidates();
  for (let i = 0; i < count; i++) {
    let score: number;
    let classId: number;
    if (perClass > 0) {
      let best = -1;
      let bestScore = 0;
      for (let k = first; k < last; k++) {
        const v = f32(s, i * perClass + k);
        if (best < 0 || v > bestScore) {
          best = k;
          bestScore = v;
        }
      }
      if (best < 0) continue;
      score = bestScore;
      classId = best - offset;
    } else {
      score = f32(s, i);
      classId = classIds === undefined ? 0 : Math.round(f32(classIds, i)) - offset;
    }
    if (score < threshold || classId < 0) continue;
    const o = i * 4;
    const ax = f32(b, yx ? o + 1 : o) * sx;
    const ay = f32(b, yx ? o : o + 1) * sy;
    const bx = f32(b, yx ? o + 3 : o + 2) * sx;
    const by = f32(b, yx ? o + 2 : o + 3) * sy;
    found.push(Math.min(ax, bx), Math.min(ay, by), Math.max(ax, bx), Math.max(ay, by), score, classId);
  }
  return found.toDetections(labels, geom, spec.nms, spec.maxDetections);
}
