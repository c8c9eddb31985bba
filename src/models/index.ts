// The models layer's public surface: manifests, geometry, NMS, and `decode`, which dispatches
// a model's output tensors to the decoder its manifest names. Decoders are pure functions of
// (outputs, manifest, geometry), so workers and tests call them the same way; workers import
// decode.js and session-check.js directly, not this file (see decode.ts).

export { decode } from './decode.js';
export type * from './types.js';
export { parseManifest, loadManifest, listBuiltinManifests, projectRoot, type LoadedManifest } from './manifest.js';
export { resolveModelFile } from './model-file.js';
export { computeGeometry, resizedSize, toSource, pointToSource } from './geometry.js';
export { nms, weightedNms, iou, iouAt, type WeightedNmsResult } from './nms.js';
export { checkAgainstSession, type InputMetadata, type OutputMetadata } from './session-check.js';
export { tensorData } from './tensors.js';
export { anchorGrids, anchorCentres, type AnchorGrid } from './decoders/anchors.js';
export { decodeYolox } from './decoders/yolox.js';
export { decodeYolov5 } from './decoders/yolov5.js';
export { decodeYolov8 } from './decoders/yolov8.js';
export { decodeSsd } from './decoders/ssd.js';
export { decodeBlazeface } from './decoders/blazeface.js';
export { decodeClassification, softmax } from './decoders/classification.js';
