// The model contract: a manifest says how to feed a model and how to read its outputs.
// Everything here is plain data so it crosses worker boundaries unchanged.

import type { Detection } from '../types.js';

export type Layout = 'NCHW' | 'NHWC';
export type ColorOrder = 'RGB' | 'BGR';
export type ResizeMode = 'letterbox' | 'stretch';

export interface InputSpec {
  name: string;
  layout: Layout;
  width: number;
  height: number;
  colorOrder: ColorOrder;
  /** value = (pixel * scale - mean[c]) / std[c], c in the model's colour order. */
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
  resize: ResizeMode;
  /** Letterbox padding value (0..255, before normalisation). */
  padValue: number;
  /** Where the letterboxed image sits: top-left (YOLOX) or centred. */
  align: 'topleft' | 'center';
}

export interface NmsSpec {
  /** Suppress a box whose IoU with a kept one is above this; 1 keeps everything (outputs already NMSed). */
  iou: number;
  classAgnostic: boolean;
  /** Average the suppressed boxes into the kept one, weighted by score (MediaPipe's WEIGHTED mode). */
  weighted?: boolean;
}

export type DecoderSpec =
  | { type: 'yolox'; output?: string; strides: number[]; scoreThreshold: number; nms: NmsSpec; maxDetections: number }
  | { type: 'yolov5'; output?: string; scoreThreshold: number; nms: NmsSpec; maxDetections: number }
  | { type: 'yolov8'; output?: string; scoreThreshold: number; nms: NmsSpec; maxDetections: number }
  | {
      type: 'ssd';
      boxes: string;
      scores: string;
      classes?: string;
      count?: string;
      /** Order of the four box numbers. */
      boxFormat: 'yxyx' | 'xyxy';
      /** Box units: normalised 0..1 of the model input, or input pixels. */
      boxUnits: 'normalized' | 'pixels';
      /** Label index offset: model class k maps to labels[k - labelOffset]. */
      labelOffset: number;
      scoreThreshold: number;
      nms: NmsSpec;
      maxDetections: number;
    }
  | {
      type: 'blazeface';
      scores: string[];
      boxes: string[];
      strides: number[];
      anchorsPerCell: number[];
      scoreThreshold: number;
      nms: NmsSpec;
      maxDetections: number;
    }
  | { type: 'classification'; output?: string; topK: number; softmax: boolean; scoreThreshold: number };

export interface ModelManifest {
  name: string;
  version: string;
  description?: string;
  /** ONNX file: a path inside the manifest's folder (or a models folder), or `npm:<package>/<path>`. */
  file?: string;
  /** Labels as a text file (one per line, inside the manifest's folder); read into `labels` on load. */
  labelsFile?: string;
  /** The manifest file it was read from (set on load, for messages; not a manifest key). */
  manifestFile?: string;
  input: InputSpec;
  outputs: string[];
  labels: string[];
  decoder: DecoderSpec;
}

/** How the source image was mapped into the model input. */
export interface Geometry {
  srcWidth: number;
  srcHeight: number;
  inputWidth: number;
  inputHeight: number;
  /** input = src * scaleX + padX (and likewise for y). */
  scaleX: number;
  scaleY: number;
  padX: number;
  padY: number;
}

export interface TensorData {
  data: Float32Array;
  dims: readonly number[];
}

export type Outputs = Record<string, TensorData>;

export type Decode = (outputs: Outputs, manifest: ModelManifest, geom: Geometry) => Detection[];
