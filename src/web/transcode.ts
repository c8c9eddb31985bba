// Frames for the page must be JPEG. Nearly all already are (cameras, MJPEG, .jpg files) and
// pass through untouched; PNG, other encoded images and raw rgb24/yuyv frames go through
// sharp, loaded only the first time such a frame needs it.

import type { TappedFrame } from '../pipeline/pipeline.js';
import { PerceptError } from '../errors.js';

type Sharp = typeof import('sharp').default;
let sharpMod: Promise<Sharp> | null = null;

function loadSharp(): Promise<Sharp> {
  sharpMod ??= import('sharp').then((m) => m.default);
  return sharpMod;
}

const QUALITY = 80;

/** YUYV 4:2:2 to packed RGB (BT.601, full range as UVC cameras send it). */
export function yuyvToRgb(src: Buffer, width: number, height: number): Buffer {
  const out = Buffer.allocUnsafe(width * height * 3);
  const pairs = Math.min(src.length >> 2, (width * height) >> 1);
  const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v | 0);
  for (let i = 0, o = 0; i < pairs; i++) {
    const s = i << 2;
    const u = src.readUInt8(s + 1) - 128;
    const v = src.readUInt8(s + 3) - 128;
    const dr = 1.402 * v;
    const dg = -0.344 * u - 0.714 * v;
    const db = 1.772 * u;
    for (const y of [src.readUInt8(s), src.readUInt8(s + 2)]) {
      out[o++] = clamp(y + dr);
      out[o++] = clamp(y + dg);
      out[o++] = clamp(y + db);
    }
  }
  return out;
}

export async function toJpeg(f: TappedFrame): Promise<Buffer> {
  if (f.format === 'jpeg') return f.data;
  const sharp = await loadSharp();
  const { width, height } = f.result;
  switch (f.format) {
    case 'rgb24':
      return sharp(f.data, { raw: { width, height, channels: 3 } })
        .jpeg({ quality: QUALITY })
        .toBuffer();
    case 'yuyv':
      return sharp(yuyvToRgb(f.data, width, height), { raw: { width, height, channels: 3 } })
        .jpeg({ quality: QUALITY })
        .toBuffer();
    case 'png':
    case 'encoded':
      return sharp(f.data).removeAlpha().jpeg({ quality: QUALITY }).toBuffer();
    default:
      throw new PerceptError('ERR_PREVIEW', `frame format '${String(f.format)}' cannot be shown in the preview`);
  }
}
