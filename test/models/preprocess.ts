// A minimal preprocessing for the models tests: resize per the manifest with sharp, pad,
// reorder channels and normalise into a float32 tensor. The real one lives in src/inference;
// this one stays small and obvious so a decoder test cannot pass because of shared mistakes.

import sharp from 'sharp';
import { computeGeometry, resizedSize } from '../../src/models/index.js';
import type { Geometry, InputSpec } from '../../src/models/index.js';
import { at } from '../helpers/at.js';

export interface Prepared {
  data: Float32Array;
  dims: number[];
  geom: Geometry;
}

export async function prepare(file: string, input: InputSpec): Promise<Prepared> {
  const meta = await sharp(file).metadata();
  const geom = computeGeometry(meta.width ?? 0, meta.height ?? 0, input);
  const { width: rw, height: rh } = resizedSize(geom);
  const W = input.width;
  const H = input.height;
  const pad = input.padValue;
  // Grayscale and RGBA sources become 3-channel sRGB so the loop below can assume RGB.
  const { data: rgb } = await sharp(file)
    .removeAlpha()
    .toColourspace('srgb')
    .resize(rw, rh, { fit: 'fill' })
    .extend({
      left: geom.padX,
      top: geom.padY,
      right: W - rw - geom.padX,
      bottom: H - rh - geom.padY,
      background: { r: pad, g: pad, b: pad },
    })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (rgb.length !== W * H * 3) throw new Error(`expected ${W}x${H}x3 pixels, got ${rgb.length} bytes`);
  const order = input.colorOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  const out = new Float32Array(W * H * 3);
  for (let c = 0; c < 3; c++) {
    const src = at(order, c);
    const { scale } = input;
    const mean = at(input.mean, c);
    const std = at(input.std, c);
    for (let p = 0; p < W * H; p++) {
      const v = (at(rgb, p * 3 + src) * scale - mean) / std;
      if (input.layout === 'NCHW') out[c * W * H + p] = v;
      else out[p * 3 + c] = v;
    }
  }
  const dims = input.layout === 'NCHW' ? [1, 3, H, W] : [1, H, W, 3];
  return { data: out, dims, geom };
}
