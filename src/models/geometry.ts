// How a source image maps into a model's input (letterbox or stretch) and how boxes found in
// input pixels map back to source pixels. Preprocessing and decoding both read one Geometry,
// so the two cannot disagree about scale or padding.

import { PerceptError } from '../errors.js';
import type { Box } from '../types.js';
import type { Geometry, InputSpec } from './types.js';

export function computeGeometry(srcWidth: number, srcHeight: number, input: Pick<InputSpec, 'width' | 'height' | 'resize' | 'align'>): Geometry {
  if (!(srcWidth > 0 && srcHeight > 0 && Number.isFinite(srcWidth) && Number.isFinite(srcHeight))) {
    throw new PerceptError('ERR_FRAME_CORRUPT', `frame size ${srcWidth}x${srcHeight} is not a positive size; the frame cannot be fed to the model`);
  }
  const { width, height } = input;
  if (input.resize === 'stretch') {
    return { srcWidth, srcHeight, inputWidth: width, inputHeight: height, scaleX: width / srcWidth, scaleY: height / srcHeight, padX: 0, padY: 0 };
  }
  // One scale for both axes keeps the aspect ratio; the decoders divide by it, as YOLOX does.
  const scale = Math.min(width / srcWidth, height / srcHeight);
  const w = fit(srcWidth * scale, width);
  const h = fit(srcHeight * scale, height);
  const centred = input.align === 'center';
  return {
    srcWidth,
    srcHeight,
    inputWidth: width,
    inputHeight: height,
    scaleX: scale,
    scaleY: scale,
    padX: centred ? Math.floor((width - w) / 2) : 0,
    padY: centred ? Math.floor((height - h) / 2) : 0,
  };
}

/** Size the source is resized to before padding (whole pixels, never beyond the input). */
export function resizedSize(geom: Geometry): { width: number; height: number } {
  return { width: fit(geom.srcWidth * geom.scaleX, geom.inputWidth), height: fit(geom.srcHeight * geom.scaleY, geom.inputHeight) };
}

function fit(v: number, max: number): number {
  return Math.max(1, Math.min(max, Math.round(v)));
}

/** A box in input pixels to source pixels and to 0..1 of the source, clamped to the image. */
export function toSource(box: Readonly<Box>, geom: Geometry): { box: Box; boxNorm: Box } {
  const x0 = clamp((box[0] - geom.padX) / geom.scaleX, geom.srcWidth);
  const y0 = clamp((box[1] - geom.padY) / geom.scaleY, geom.srcHeight);
  const x1 = clamp((box[2] - geom.padX) / geom.scaleX, geom.srcWidth);
  const y1 = clamp((box[3] - geom.padY) / geom.scaleY, geom.srcHeight);
  return {
    box: [x0, y0, x1, y1],
    boxNorm: [x0 / geom.srcWidth, y0 / geom.srcHeight, x1 / geom.srcWidth, y1 / geom.srcHeight],
  };
}

/** A point in input pixels to source pixels (not clamped: a key point may sit just outside). */
export function pointToSource(x: number, y: number, geom: Geometry): [number, number] {
  return [(x - geom.padX) / geom.scaleX, (y - geom.padY) / geom.scaleY];
}

function clamp(v: number, max: number): number {
  return v < 0 ? 0 : v > max ? max : v;
}
