// Scenes for the motion gate's tests, made from the shared photos: coffee.png as a 1280x720
// background, the motorcycle of motorcycle_left.png cut out and placed at a chosen x, the whole
// frame brightened or darkened, sensor-like noise added. Frames are JPEG as cameras send them.

import sharp from 'sharp';
import type { Frame } from '../../src/types.js';
import { image } from './paths.js';

export const W = 1280;
export const H = 720;

let background: Promise<Buffer> | null = null;
let bike: Promise<{ data: Buffer; width: number; height: number }> | null = null;

function backgroundRgb(): Promise<Buffer> {
  background ??= sharp(image('coffee.png')).removeAlpha().resize(W, H, { fit: 'fill' }).raw().toBuffer();
  return background;
}

function bikeRgb(): Promise<{ data: Buffer; width: number; height: number }> {
  bike ??= sharp(image('motorcycle_left.png'))
    .removeAlpha()
    .extract({ left: 100, top: 56, width: 620, height: 400 })
    .resize({ width: 400 })
    .raw()
    .toBuffer({ resolveWithObject: true })
    .then(({ data, info }) => ({ data, width: info.width, height: info.height }));
  return bike;
}

export interface SceneOptions {
  /** Left edge of the motorcycle in pixels (it may stick out of the frame), or null for none. */
  bikeX?: number | null;
  bikeY?: number;
  /** Added to every channel (clamped). */
  brightness?: number;
  /** Uniform noise of +-noise grey levels per pixel, from this seed. */
  noise?: number;
  seed?: number;
}

/** The scene as packed RGB, 1280x720. */
export async function sceneRgb(o: SceneOptions = {}): Promise<Buffer> {
  const out = Buffer.from(await backgroundRgb());
  if (o.bikeX !== undefined && o.bikeX !== null) {
    const b = await bikeRgb();
    const y0 = o.bikeY ?? 300;
    for (let y = 0; y < b.height; y++) {
      const ty = y0 + y;
      if (ty < 0 || ty >= H) continue;
      for (let x = 0; x < b.width; x++) {
        const tx = Math.round(o.bikeX) + x;
        if (tx < 0 || tx >= W) continue;
        b.data.copy(out, (ty * W + tx) * 3, (y * b.width + x) * 3, (y * b.width + x) * 3 + 3);
      }
    }
  }
  const add = o.brightness ?? 0;
  const noise = o.noise ?? 0;
  if (add || noise) {
    let s = (o.seed ?? 1) >>> 0 || 1;
    for (let i = 0; i < out.length; i++) {
      let v = out[i]! + add;
      if (noise) {
        // xorshift32: the same noise for the same seed.
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        v += ((s >>> 0) % (2 * noise + 1)) - noise;
      }
      out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}

export async function sceneJpeg(o: SceneOptions = {}): Promise<Buffer> {
  return sharp(await sceneRgb(o), { raw: { width: W, height: H, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}

/** A frame of `source` number `seq` captured at `seq / fps` seconds (ms clock from 0). */
export function frameOf(data: Buffer, seq: number, format: Frame['format'] = 'jpeg', fps = 15): Frame {
  const raw = format !== 'jpeg';
  return { source: 'cam', seq, capturedAt: Math.round((seq * 1000) / fps), width: raw ? W : 0, height: raw ? H : 0, format, data };
}

/** Packed RGB to a raw camera format: the luma (BT.601) with neutral chroma. */
export function rawOf(rgb: Buffer, format: 'rgb24' | 'yuyv' | 'nv12'): Buffer {
  if (format === 'rgb24') return rgb;
  const n = W * H;
  const luma = (i: number) => (77 * rgb[3 * i]! + 150 * rgb[3 * i + 1]! + 29 * rgb[3 * i + 2]!) >> 8;
  if (format === 'yuyv') {
    const out = Buffer.alloc(n * 2, 128);
    for (let i = 0; i < n; i++) out[2 * i] = luma(i);
    return out;
  }
  const out = Buffer.alloc(n + n / 2, 128);
  for (let i = 0; i < n; i++) out[i] = luma(i);
  return out;
}
