// The models layer's public surface: manifests, geometry, NMS, and `decode`, which dispatches
// a model's output tensors to the decoder its manifest names. Decoders are pure functions of
// (outputs, manifest, geometry), so workers and tests call them the same way.

import type { Detection } from '../types.js';
import { decodeBlazeface } from './decoders/blazeface.js';
import { decodeClassification } from './decoders/classification.js';
import { decodeSsd } from './decoders/ssd.js';
import { decodeYolov5 } from './decoders/yolov5.js';
import { decodeYolov8 } from './decoders/yolov8.js';
import { decodeYolox } from './decoders/yolox.js';
import type { Decode, DecoderSpec, Geometry, ModelManifest, Outputs } from './types.js';

const decoders: Record<DecoderSpec['type'], Decode> = {
  yolox: decodeYolox,
  yolov5: decodeYolov5,
  yolov8: decodeYolov8,
  ssd: decodeSsd,
  blazeface: decodeBlazeface,
  classification: decodeClassification,
};

/** Detections in source pixels, best first. Throws ERR_DECODE when an output is missing or misshapen. */
export function decode(outputs: Outputs, manifest: ModelManifest, geom: Geometry): Detection[] {
  return decoders[manifest.decoder.type](outputs, manifest, geom);
}

export type * from './types.js';
export { parseManifest, loadManifest, listBuiltinManifests, projectRoot, type LoadedManifest } from './manifest.js';
export { resolveModelFile } from './model-file.js';
export { computeGeometry, resizedSize, toSource, pointToSource } from './geometry.js';
export { nms, weightedNms, iou, iouAt, type WeightedNmsResult } from './nms.js';
export { checkAgainstSession, type InputMetadata } from './session-check.js';
export { tensorData } from './tensors.js';
export { anchorGrids, anchorCentres, type AnchorGrid } from './decoders/anchors.js';
export { decodeYolox, decodeYolov5, decodeYolov8, decodeSsd, decodeBlazeface, decodeClassification };
export { softmax } from './decoders/classification.js';
