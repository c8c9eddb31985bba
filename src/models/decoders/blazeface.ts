// MediaPipe BlazeFace: per anchor grid one score output [1,n,1] (logits) and one regressor
// output [1,n,4+2K] (cx, cy, w, h, then K key points), offsets in input pixels from the SSD anchor
// centres (anchor size 1.0, MediaPipe's x/y/w/h scale = input size). Face detectors are single-class.

import { PerceptError } from '../../errors.js';
import type { Detection } from '../../types.js';
import { f32 } from '../read.js';
import type { Geometry, ModelManifest, Outputs } from '../types.js';
import { anchorCentres, anchorGrids } from './anchors.js';
import { badShape, Candidates, output, sigmoid, specOf, squeezeTo } from './common.js';

export function decodeBlazeface(outputs: Outputs, manifest: ModelManifest, geom: Geometry): Detection[] {
  const spec = specOf(manifest, 'blazeface');
  const { width, height } = manifest.input;
  const grids = anchorGrids(width, height, spec.strides, spec.anchorsPerCell);
  if (grids === undefined || grids.length !== spec.scores.length || grids.length !== spec.boxes.length) {
    throw new PerceptError(
      'ERR_DECODE',
      `blazeface decoder: model '${manifest.name}' has anchorsPerCell/scores/boxes that do not match its strides; fix the manifest`,
    );
  }
  // Scores are logits: compare against the threshold's logit and skip the exp for most anchors.
  const t = Math.min(Math.max(spec.scoreThreshold, 1e-7), 1 - 1e-7);
  const logitThreshold = Math.log(t / (1 - t));
  let found: Candidates | undefined;
  let pointCount = 0;
  for (const [g, grid] of grids.entries()) {
    // Checked above: one scores and one boxes output name per grid.
    const scoresName = spec.scores[g] ?? '';
    const boxesName = spec.boxes[g] ?? '';
    const scores = output(outputs, manifest, scoresName, 'blazeface');
    const boxes = output(outputs, manifest, boxesName, 'blazeface');
    const sd = squeezeTo(scores.dims, 3);
    if (sd === undefined || sd[0] !== 1 || sd[1] !== grid.count || sd[2] !== 1) {
      throw badShape(
        'blazeface',
        scoresName,
        scores.dims,
        `[1,${grid.count},1] (${grid.cols}x${grid.rows} cells x ${grid.anchorsPerCell} anchors at stride ${grid.stride})`,
      );
    }
    const bd = squeezeTo(boxes.dims, 3);
    if (bd === undefined || bd[0] !== 1 || bd[1] !== grid.count || bd[2] < 4 || bd[2] % 2 !== 0) {
      throw badShape('blazeface', boxesName, boxes.dims, `[1,${grid.count},4+2*keypoints]`);
    }
    const row = bd[2];
    if (found === undefined) {
      pointCount = (row - 4) / 2;
      found = new Candidates(pointCount);
    } else if (pointCount !== (row - 4) / 2) {
      throw badShape('blazeface', boxesName, boxes.dims, `[1,${grid.count},${4 + pointCount * 2}] like the first grid's boxes`);
    }
    const centres = anchorCentres(grid, width, height);
    const points = new Float32Array(pointCount * 2);
    const s = scores.data;
    const b = boxes.data;
    for (let i = 0; i < grid.count; i++) {
      const logit = f32(s, i);
      if (logit < logitThreshold) continue;
      const ax = f32(centres, i * 2),
        ay = f32(centres, i * 2 + 1);
      const o = i * row;
      const cx = f32(b, o) + ax,
        cy = f32(b, o + 1) + ay,
        hw = f32(b, o + 2) / 2,
        hh = f32(b, o + 3) / 2;
      for (let k = 0; k < pointCount; k++) {
        points[k * 2] = f32(b, o + 4 + k * 2) + ax;
        points[k * 2 + 1] = f32(b, o + 5 + k * 2) + ay;
      }
      found.push(cx - hw, cy - hh, cx + hw, cy + hh, sigmoid(logit), 0, points);
    }
  }
  if (found === undefined) return [];
  return found.toDetections(manifest.labels, geom, spec.nms, spec.maxDetections);
}
