// Turns an encoded or raw frame into the model's input tensor: sharp decodes, resizes and
// pads (letterbox or stretch); a tight loop reorders to the model's layout and colour order
// and normalises. Runs inside a worker.

import sharp from 'sharp';
import type { InputSpec, Geometry } from '../models/types.js';
import { computeGeometry, resizedSize } from '../models/geometry.js';
import { PerceptError } from '../errors.js';
import { imageSize } from './image-size.js';
import type { FrameFormat } from '../types.js';

export interface Preprocessed {
  tensor: Float32Array;
  geom: Geometry;
}

/** Decode + resize + pad with sharp; returns packed RGB bytes at the model's input size. */
export async function resizeToInput(
  data: Buffer,
  format: FrameFormat,
  width: number,
  height: number,
  input: InputSpec,
): Promise<{ rgb: Buffer; geom: Geometry }> {
  let img: ReturnType<typeof sharp>;
  let srcW = width;
  let srcH = height;
  try {
    if (format === 'rgb24') {
      img = sharp(data, { raw: { width, height, channels: 3 } });
    } else {
      img = sharp(data, { failOn: 'error', sequentialRead: true });
      // EXIF orientation is not applied (frames are used as stored), so the header's size is
      // the decoded size.
      const size = imageSize(data) ?? (await img.metadata());
      srcW = size.width ?? 0;
      srcH = size.height ?? 0;
    }
  } catch (e) {
    throw new PerceptError('ERR_FRAME_CORRUPT', `frame could not be decoded: ${(e as Error).message}`);
  }
  if (!srcW || !srcH) throw new PerceptError('ERR_FRAME_CORRUPT', 'frame could not be decoded: no image size');
  const geom = computeGeometry(srcW, srcH, input);
  const { width: rw, height: rh } = resizedSize(geom);
  const left = Math.round(geom.padX);
  const top = Math.round(geom.padY);
  const pad = input.padValue;
  try {
    let p = img.removeAlpha().toColourspace('srgb').resize(rw, rh, { fit: 'fill' });
    if (rw !== input.width || rh !== input.height) {
      p = p.extend({
        top,
        left,
        bottom: input.height - rh - top,
        right: input.width - rw - left,
        background: { r: pad, g: pad, b: pad },
      });
    }
    const { data: rgb, info } = await p.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== input.width || info.height !== input.height) {
      throw new Error(`unexpected decoded shape ${info.width}x${info.height}x${info.channels}`);
    }
    return { rgb, geom };
  } catch (e) {
    throw new PerceptError('ERR_FRAME_CORRUPT', `frame could not be decoded: ${(e as Error).message}`);
  }
}

/** Packed RGB (HWC, uint8) to the model's float tensor, in its layout and colour order. */
export function toTensor(rgb: Uint8Array, input: InputSpec, out?: Float32Array): Float32Array {
  const { width: w, height: h } = input;
  const n = w * h;
  const t = out ?? new Float32Array(n * 3);
  const bgr = input.colorOrder === 'BGR';
  // Per model channel c: value = (pixel * scale - mean[c]) / std[c] = pixel * a[c] + b[c].
  const a0 = input.scale / input.std[0], b0 = -input.mean[0] / input.std[0];
  const a1 = input.scale / input.std[1], b1 = -input.mean[1] / input.std[1];
  const a2 = input.scale / input.std[2], b2 = -input.mean[2] / input.std[2];
  const r0 = bgr ? 2 : 0; // which RGB byte feeds model channel 0
  const r2 = bgr ? 0 : 2;
  if (input.layout === 'NCHW') {
    for (let i = 0, j = 0; i < n; i++, j += 3) {
      t[i] = rgb[j + r0] * a0 + b0;
      t[n + i] = rgb[j + 1] * a1 + b1;
      t[2 * n + i] = rgb[j + r2] * a2 + b2;
    }
  } else {
    for (let j = 0; j < n * 3; j += 3) {
      t[j] = rgb[j + r0] * a0 + b0;
      t[j + 1] = rgb[j + 1] * a1 + b1;
      t[j + 2] = rgb[j + r2] * a2 + b2;
    }
  }
  return t;
}

/** `out`, when given, is reused for the tensor (a worker runs one job at a time). */
export async function preprocess(data: Buffer, format: FrameFormat, width: number, height: number, input: InputSpec, out?: Float32Array): Promise<Preprocessed> {
  const { rgb, geom } = await resizeToInput(data, format, width, height, input);
  return { tensor: toTensor(rgb, input, out), geom };
}
