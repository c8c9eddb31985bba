// `decode` dispatches a model's output tensors to the decoder its manifest names. Kept apart
// from the manifest loader so an inference worker imports the decoders alone: a worker that
// also loads the manifest schema (zod) carries a larger heap, and V8 then runs a full
// collection every few dozen frames instead of every few hundred.

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
