// The preview shows raw camera frames too: a YUYV or an NV12 frame of a photo becomes a JPEG
// of the same picture (the workers' own conversion), and a JPEG passes through untouched.
import test from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { toJpeg } from '../../src/web/transcode.js';
import type { TappedFrame } from '../../src/pipeline/pipeline.js';
import type { FrameFormat } from '../../src/types.js';
import { image } from '../helpers/paths.js';
import { at } from '../helpers/at.js';

const W = 320;
const H = 240;
const rgb = await sharp(image('coffee.png')).resize(W, H, { fit: 'cover' }).removeAlpha().raw().toBuffer();

/** BT.601 full range: Y, U, V of pixel (x, y). */
function yuv(x: number, y: number): [number, number, number] {
  const i = (y * W + x) * 3;
  const [r, g, b] = [at(rgb, i), at(rgb, i + 1), at(rgb, i + 2)];
  return [0.299 * r + 0.587 * g + 0.114 * b, -0.168736 * r - 0.331264 * g + 0.5 * b + 128, 0.5 * r - 0.418688 * g - 0.081312 * b + 128];
}
const byte = (v: number) => Math.max(0, Math.min(255, Math.round(v)));

function raw(format: 'yuyv' | 'nv12'): Buffer {
  if (format === 'yuyv') {
    const out = Buffer.alloc(W * H * 2);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x += 2) {
        const [a, b] = [yuv(x, y), yuv(x + 1, y)];
        out.set([byte(a[0]), byte((a[1] + b[1]) / 2), byte(b[0]), byte((a[2] + b[2]) / 2)], (y * W + x) * 2);
      }
    return out;
  }
  const out = Buffer.alloc(W * H * 1.5);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) out[y * W + x] = byte(yuv(x, y)[0]);
  for (let y = 0; y < H; y += 2)
    for (let x = 0; x < W; x += 2) {
      const [u, v] = yuv(x, y).slice(1) as [number, number];
      out[W * H + (y / 2) * W + x] = byte(u);
      out[W * H + (y / 2) * W + x + 1] = byte(v);
    }
  return out;
}

const tapped = (format: FrameFormat, data: Buffer) => ({ data, format, result: { width: W, height: H } }) as unknown as TappedFrame;

test('YUYV and NV12 frames become JPEGs of the same picture; a JPEG passes through', async () => {
  for (const format of ['yuyv', 'nv12'] as const) {
    const jpeg = await toJpeg(tapped(format, raw(format)));
    const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.format, info.width, info.height, info.channels], ['raw', W, H, 3], format);
    let diff = 0;
    for (let i = 0; i < data.length; i++) diff += Math.abs(at(data, i) - at(rgb, i));
    assert.ok(diff / data.length < 6, `${format}: mean difference ${(diff / data.length).toFixed(2)} per channel`);
  }
  const photo = await sharp(rgb, { raw: { width: W, height: H, channels: 3 } })
    .jpeg()
    .toBuffer();
  assert.equal(await toJpeg(tapped('jpeg', photo)), photo);
});
