// A frame as the motion detector sees it: grey, about `height` pixels high. Raw frames (yuyv,
// nv12, rgb24) are sampled directly, a few reads per output pixel; encoded frames are decoded by
// sharp already shrunk (JPEG shrink-on-load), on libuv's pool rather than the main thread.

import sharp from 'sharp';
import type { Frame } from '../types.js';
import { PerceptError } from '../errors.js';
import type { Grey } from './motion.js';

/** The grid a raw frame of `width` x `height` is sampled to. */
export function gridOf(width: number, height: number, target: number): { w: number; h: number } {
  const h = Math.max(1, Math.min(target, height));
  return { h, w: Math.max(1, Math.round((width * h) / height)) };
}

/** The frame's grey image at about `height` rows. Rejects with ERR_FRAME_CORRUPT for bytes that are no image. */
export async function greyOf(frame: Frame, height: number): Promise<Grey> {
  if (frame.format === 'yuyv' || frame.format === 'nv12' || frame.format === 'rgb24') return sampleRaw(frame, height);
  try {
    const { data, info } = await sharp(frame.data, { failOn: 'none' })
      .resize({ height, withoutEnlargement: true, kernel: 'linear', fastShrinkOnLoad: true })
      .greyscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
    // greyscale() of an image with alpha keeps the alpha band: take the first band only.
    if (info.channels === 1) return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
    const grey = new Uint8Array(info.width * info.height);
    for (let i = 0, j = 0; i < grey.length; i++, j += info.channels) grey[i] = data[j]!;
    return { data: grey, width: info.width, height: info.height };
  } catch (e) {
    throw new PerceptError('ERR_FRAME_CORRUPT', `source '${frame.source}' frame ${frame.seq}: not an image the motion gate can read (${(e as Error).message})`);
  }
}

const BYTES_PER_PIXEL = { yuyv: 2, nv12: 1.5, rgb24: 3 } as const;

/**
 * Luma averaged over four points of each output cell: nearest sampling alone lets sensor
 * noise through, a full box average reads every pixel of the frame.
 */
export function sampleRaw(frame: Frame, target: number): Grey {
  const fmt = frame.format as keyof typeof BYTES_PER_PIXEL;
  const W = frame.width;
  const H = frame.height;
  const need = Math.ceil(W * H * BYTES_PER_PIXEL[fmt]);
  if (!(W > 0 && H > 0) || frame.data.length < need) {
    throw new PerceptError(
      'ERR_FRAME_CORRUPT',
      `source '${frame.source}' frame ${frame.seq}: ${fmt} frame of ${W}x${H} needs ${need} bytes but has ${frame.data.length}`,
    );
  }
  const { w, h } = gridOf(W, H, target);
  const src = frame.data;
  const out = new Uint8Array(w * h);
  const xs = new Int32Array(2 * w);
  for (let x = 0; x < w; x++) {
    xs[2 * x] = Math.min(W - 1, Math.floor(((x + 0.25) * W) / w));
    xs[2 * x + 1] = Math.min(W - 1, Math.floor(((x + 0.75) * W) / w));
  }
  const luma =
    fmt === 'rgb24'
      ? (i: number) => (77 * src[3 * i]! + 150 * src[3 * i + 1]! + 29 * src[3 * i + 2]!) >> 8
      : fmt === 'yuyv'
        ? (i: number) => src[2 * i]!
        : (i: number) => src[i]!;
  for (let y = 0; y < h; y++) {
    const r0 = Math.min(H - 1, Math.floor(((y + 0.25) * H) / h)) * W;
    const r1 = Math.min(H - 1, Math.floor(((y + 0.75) * H) / h)) * W;
    for (let x = 0; x < w; x++) {
      const a = xs[2 * x]!;
      const b = xs[2 * x + 1]!;
      out[y * w + x] = (luma(r0 + a) + luma(r0 + b) + luma(r1 + a) + luma(r1 + b) + 2) >> 2;
    }
  }
  return { data: out, width: w, height: h };
}
