// Turns an encoded or raw frame into the model's input tensor: sharp decodes and resizes; a
// tight loop pads (letterbox), reorders to the model's layout and colour order and
// normalises. Runs inside a worker.

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

/** The source resized for the model, before padding: packed RGB and where it sits in the input. */
export interface Resized {
  rgb: Buffer;
  width: number;
  height: number;
  left: number;
  top: number;
  geom: Geometry;
}

/**
 * Decode + resize with sharp; returns packed RGB at the size the image takes inside the model's
 * input. The letterbox padding is not drawn here: toTensor writes it straight into the tensor,
 * which costs less than a sharp extend (measured by `percept bench --section pipeline`).
 */
export async function resizeToInput(data: Buffer, format: FrameFormat, width: number, height: number, input: InputSpec): Promise<Resized> {
  let img: ReturnType<typeof sharp>;
  let srcW = width;
  let srcH = height;
  try {
    if (format === 'rgb24' || format === 'yuyv' || format === 'nv12') {
      img = sharp(format === 'rgb24' ? data : rawToRgb(data, format, width, height), { raw: { width, height, channels: 3 } });
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
  try {
    const { data: rgb, info } = await img.removeAlpha().toColourspace('srgb').resize(rw, rh, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== rw || info.height !== rh) {
      throw new Error(`unexpected decoded shape ${info.width}x${info.height}x${info.channels}`);
    }
    return { rgb, width: rw, height: rh, left: Math.round(geom.padX), top: Math.round(geom.padY), geom };
  } catch (e) {
    throw new PerceptError('ERR_FRAME_CORRUPT', `frame could not be decoded: ${(e as Error).message}`);
  }
}

/**
 * Packed RGB (HWC, uint8) placed at (left, top) to the model's float tensor, in its layout and
 * colour order; everything around it is the pad value. Only the image's pixels go through the
 * per-pixel loop; the padding is filled as runs.
 */
export function toTensor(img: Pick<Resized, 'rgb' | 'width' | 'height' | 'left' | 'top'>, input: InputSpec, out?: Float32Array): Float32Array {
  const { width: W, height: H } = input;
  const { rgb, width: rw, height: rh, left, top } = img;
  if (left < 0 || top < 0 || left + rw > W || top + rh > H || rgb.length < rw * rh * 3) {
    throw new PerceptError('ERR_FRAME_CORRUPT', `resized image ${rw}x${rh} at ${left},${top} does not fit the ${W}x${H} input`);
  }
  const n = W * H;
  const t = out ?? new Float32Array(n * 3);
  const bgr = input.colorOrder === 'BGR';
  // Per model channel c: value = (pixel * scale - mean[c]) / std[c] = pixel * a[c] + b[c].
  const a0 = input.scale / input.std[0],
    b0 = -input.mean[0] / input.std[0];
  const a1 = input.scale / input.std[1],
    b1 = -input.mean[1] / input.std[1];
  const a2 = input.scale / input.std[2],
    b2 = -input.mean[2] / input.std[2];
  const r0 = bgr ? 2 : 0; // which RGB byte feeds model channel 0
  const r2 = bgr ? 0 : 2;
  const pad = input.padValue;
  const p0 = pad * a0 + b0,
    p1 = pad * a1 + b1,
    p2 = pad * a2 + b2;
  const right = left + rw;
  const bottom = top + rh;
  if (input.layout === 'NCHW') {
    const padRun = (from: number, to: number) => {
      if (to <= from) return;
      t.fill(p0, from, to);
      t.fill(p1, n + from, n + to);
      t.fill(p2, 2 * n + from, 2 * n + to);
    };
    padRun(0, top * W);
    for (let y = top, j = 0; y < bottom; y++) {
      const row = y * W;
      padRun(row, row + left);
      for (let i = row + left, end = row + right; i < end; i++, j += 3) {
        t[i] = px(rgb, j + r0) * a0 + b0;
        t[n + i] = px(rgb, j + 1) * a1 + b1;
        t[2 * n + i] = px(rgb, j + r2) * a2 + b2;
      }
      padRun(row + right, row + W);
    }
    padRun(bottom * W, n);
  } else {
    const padRun = (from: number, to: number) => {
      for (let k = from * 3, end = to * 3; k < end; k += 3) {
        t[k] = p0;
        t[k + 1] = p1;
        t[k + 2] = p2;
      }
    };
    padRun(0, top * W);
    for (let y = top, j = 0; y < bottom; y++) {
      const row = y * W;
      padRun(row, row + left);
      for (let k = (row + left) * 3, end = (row + right) * 3; k < end; k += 3, j += 3) {
        t[k] = px(rgb, j + r0) * a0 + b0;
        t[k + 1] = px(rgb, j + 1) * a1 + b1;
        t[k + 2] = px(rgb, j + r2) * a2 + b2;
      }
      padRun(row + right, row + W);
    }
    padRun(bottom * W, n);
  }
  return t;
}

/**
 * Byte k of a frame's pixels. Callers check the length first (toTensor against the resized size,
 * rawToRgb against the raw size), so this never throws; it reports a short buffer as
 * ERR_FRAME_CORRUPT rather than computing with undefined. Buffers only: one monomorphic read.
 */
function px(a: Buffer, k: number): number {
  const v = a[k];
  if (v === undefined) throw new PerceptError('ERR_FRAME_CORRUPT', `frame pixels end at byte ${a.length}, byte ${k} was needed`);
  return v;
}

/** Bytes of a packed raw frame, so a short one is refused instead of read past its end. */
function rawBytes(format: 'yuyv' | 'nv12', width: number, height: number): number {
  return format === 'yuyv' ? width * height * 2 : width * height + Math.ceil(height / 2) * (width + (width & 1));
}

/**
 * A camera's YUYV or NV12 frame to packed RGB, once, before sharp resizes it (BT.601 at full
 * range, as UVC cameras and JPEG's own YCbCr use, so a raw frame and the camera's JPEG of the
 * same scene give the model the same pixels). Fixed-point: this runs per pixel in a worker.
 */
export function rawToRgb(src: Buffer, format: 'yuyv' | 'nv12', width: number, height: number): Buffer {
  if (!width || !height || src.length < rawBytes(format, width, height)) {
    throw new Error(`a ${width}x${height} ${format} frame needs ${rawBytes(format, width, height)} bytes, got ${src.length}`);
  }
  const out = Buffer.allocUnsafe(width * height * 3);
  const uvRow = width + (width & 1);
  for (let y = 0, o = 0; y < height; y++) {
    for (let x = 0; x < width; x++, o += 3) {
      let Y: number, U: number, V: number;
      if (format === 'yuyv') {
        const p = (y * width + x) * 2;
        const pair = p & ~3;
        Y = px(src, p);
        U = px(src, pair + 1) - 128;
        V = px(src, pair + 3) - 128;
      } else {
        Y = px(src, y * width + x);
        const c = width * height + (y >> 1) * uvRow + (x & ~1);
        U = px(src, c) - 128;
        V = px(src, c + 1) - 128;
      }
      // 1.402, 0.344136, 0.714136, 1.772 in 16.16 fixed point.
      const r = Y + ((91881 * V + 32768) >> 16);
      const g = Y - ((22554 * U + 46802 * V - 32768) >> 16);
      const b = Y + ((116130 * U + 32768) >> 16);
      out[o] = r < 0 ? 0 : r > 255 ? 255 : r;
      out[o + 1] = g < 0 ? 0 : g > 255 ? 255 : g;
      out[o + 2] = b < 0 ? 0 : b > 255 ? 255 : b;
    }
  }
  return out;
}

/** `out`, when given, is reused for the tensor (a worker runs one job at a time). */
export async function preprocess(
  data: Buffer,
  format: FrameFormat,
  width: number,
  height: number,
  input: InputSpec,
  out?: Float32Array,
): Promise<Preprocessed> {
  const resized = await resizeToInput(data, format, width, height, input);
  return { tensor: toTensor(resized, input, out), geom: resized.geom };
}
