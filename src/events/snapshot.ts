// A track's snapshot: the object cut out of its best frame with a margin around it, as a JPEG
// small enough that its base64 fits a direct-method answer (IoT Hub allows 128 KB). Runs sharp
// from the main thread, so the decoding and encoding happen on libuv's pool.

import sharp from 'sharp';
import type { Box, Frame } from '../types.js';
import { rawToRgb } from '../inference/preprocess.js';

/** 64 KiB of JPEG is about 86 KiB of base64: room for the rest of a method's answer. */
export const SNAPSHOT_MAX_BYTES = 64 * 1024;
/** Longest side of a snapshot, in pixels. */
const MAX_SIDE = 640;
/** Margin around the box on each side, as a share of the box's size. */
const MARGIN = 0.25;

export type FrameBytes = Pick<Frame, 'data' | 'format' | 'width' | 'height'>;

/** How good a frame is as a track's snapshot: a confident, large, whole object. */
export function snapshotQuality(score: number, box: Box): number {
  const area = Math.max(0, box[2] - box[0]) * Math.max(0, box[3] - box[1]);
  const e = 0.005;
  const cut = box[0] <= e || box[1] <= e || box[2] >= 1 - e || box[3] >= 1 - e;
  return score * Math.sqrt(area) * (cut ? 0.25 : 1);
}

function input(f: FrameBytes): ReturnType<typeof sharp> {
  if (f.format === 'rgb24') return sharp(f.data, { raw: { width: f.width, height: f.height, channels: 3 } });
  if (f.format === 'yuyv' || f.format === 'nv12')
    return sharp(rawToRgb(f.data, f.format, f.width, f.height), { raw: { width: f.width, height: f.height, channels: 3 } });
  return sharp(f.data);
}

/** The JPEG of `box` (normalised) in the frame, with a margin, at most `maxBytes`. */
export async function cropSnapshot(f: FrameBytes, box: Box, maxBytes = SNAPSHOT_MAX_BYTES): Promise<Buffer> {
  let { width, height } = f;
  if (!width || !height) {
    const meta = await sharp(f.data).metadata();
    width = meta.width ?? 0;
    height = meta.height ?? 0;
  }
  if (!width || !height) throw new Error('the frame has no size');
  const bw = box[2] - box[0];
  const bh = box[3] - box[1];
  const x0 = Math.max(0, Math.floor((box[0] - bw * MARGIN) * width));
  const y0 = Math.max(0, Math.floor((box[1] - bh * MARGIN) * height));
  const x1 = Math.min(width, Math.ceil((box[2] + bw * MARGIN) * width));
  const y1 = Math.min(height, Math.ceil((box[3] + bh * MARGIN) * height));
  const region = { left: x0, top: y0, width: Math.max(1, x1 - x0), height: Math.max(1, y1 - y0) };
  if (region.left + region.width > width || region.top + region.height > height) throw new Error('the box is outside the frame');
  // Decode and crop once; the size loop only re-encodes.
  const { data, info } = await input(f).extract(region).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const raw = { width: info.width, height: info.height, channels: info.channels };
  let side = Math.min(MAX_SIDE, Math.max(info.width, info.height));
  for (let quality = 80; side >= 16;) {
    const jpeg = await sharp(data, { raw }).resize(side, side, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality }).toBuffer();
    if (jpeg.length <= maxBytes) return jpeg;
    if (quality > 50) quality -= 15;
    else side = Math.floor(side * 0.75);
  }
  throw new Error('the snapshot cannot be made small enough');
}
