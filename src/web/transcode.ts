// Frames for the page must be JPEG. Nearly all already are (cameras, MJPEG, .jpg files) and
// pass through untouched; PNG, other encoded images and raw rgb24, YUYV and NV12 frames go
// through sharp, loaded only the first time such a frame needs it.

import type { TappedFrame } from '../pipeline/pipeline.js';
import { PerceptError } from '../errors.js';

type Sharp = typeof import('sharp').default;
let sharpMod: Promise<Sharp> | null = null;

function loadSharp(): Promise<Sharp> {
  sharpMod ??= import('sharp').then((m) => m.default);
  return sharpMod;
}

const QUALITY = 80;

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
    case 'nv12': {
      // The conversion the workers use, so the page shows the pixels the model saw.
      const { rawToRgb } = await import('../inference/preprocess.js');
      return sharp(rawToRgb(f.data, f.format, width, height), { raw: { width, height, channels: 3 } })
        .jpeg({ quality: QUALITY })
        .toBuffer();
    }
    case 'png':
    case 'encoded':
      return sharp(f.data).removeAlpha().jpeg({ quality: QUALITY }).toBuffer();
    default:
      throw new PerceptError('ERR_PREVIEW', `frame format '${String(f.format)}' cannot be shown in the preview`);
  }
}
