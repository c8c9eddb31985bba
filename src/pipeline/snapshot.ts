// Draws a frame's detections onto it as a JPEG, small enough for a direct-method answer
// (IoT Hub allows 128 KB per method payload, base64 included), and waits for the frame to draw.

import sharp from 'sharp';
import type { Detection } from '../types.js';
import type { TappedFrame } from './pipeline.js';

const COLOURS = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45'];

const esc = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

export async function drawDetections(
  image: Buffer,
  detections: Detection[],
  maxJpegBytes: number,
): Promise<{ jpeg: Buffer; width: number; height: number; scale: number }> {
  const meta = await sharp(image).metadata();
  const w0 = meta.width ?? 0;
  const h0 = meta.height ?? 0;
  for (let scale = 1, quality = 80; scale > 0.05;) {
    const w = Math.max(1, Math.round(w0 * scale));
    const h = Math.max(1, Math.round(h0 * scale));
    const stroke = Math.max(1, Math.round(Math.min(w, h) / 200));
    const font = Math.max(9, Math.round(Math.min(w, h) / 40));
    const shapes = detections
      .map((d, i) => {
        const c = COLOURS[d.classId % COLOURS.length] ?? COLOURS[i % COLOURS.length];
        const [x0, y0, x1, y1] = d.box.map((v) => v * scale) as typeof d.box;
        const text = `${esc(d.label)} ${(d.confidence * 100).toFixed(0)}%`;
        const ty = Math.max(font, y0 - 2);
        return (
          `<rect x="${x0}" y="${y0}" width="${x1 - x0}" height="${y1 - y0}" fill="none" stroke="${c}" stroke-width="${stroke}"/>` +
          `<rect x="${x0}" y="${ty - font}" width="${text.length * font * 0.6 + 4}" height="${font + 2}" fill="${c}"/>` +
          `<text x="${x0 + 2}" y="${ty - 1}" font-family="sans-serif" font-size="${font}" fill="#fff">${text}</text>`
        );
      })
      .join('');
    const svg = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">${shapes}</svg>`);
    const jpeg = await sharp(image)
      .resize(w, h, { fit: 'fill' })
      .composite([{ input: svg, top: 0, left: 0 }])
      .jpeg({ quality })
      .toBuffer();
    if (jpeg.length <= maxJpegBytes) return { jpeg, width: w, height: h, scale };
    if (quality > 50) quality -= 15;
    else scale *= 0.75;
  }
  throw new Error('the snapshot cannot be made small enough');
}

/** What `nextFrame` needs of a pipeline: its tapped frames. */
export interface FrameTap {
  on(ev: 'frame', fn: (f: TappedFrame) => void): unknown;
  off(ev: 'frame', fn: (f: TappedFrame) => void): unknown;
}

interface Waiter {
  source: string | undefined;
  resolve(f: TappedFrame | null): void;
}

// One listener per pipeline serves every pending request: concurrent snapshots must not pile
// listeners onto the pipeline (Node warns past ten, and each one makes it copy every frame).
const waiting = new WeakMap<FrameTap, { waiters: Set<Waiter>; listener: (f: TappedFrame) => void }>();

/** The next frame from `source` (from any source when undefined), or null after `timeoutMs`. */
export function nextFrame(pipeline: FrameTap, source: string | undefined, timeoutMs: number): Promise<TappedFrame | null> {
  let entry = waiting.get(pipeline);
  if (!entry) {
    const waiters = new Set<Waiter>();
    const listener = (f: TappedFrame) => {
      for (const w of waiters) if (w.source === undefined || w.source === f.result.source) w.resolve(f);
    };
    entry = { waiters, listener };
    waiting.set(pipeline, entry);
    pipeline.on('frame', listener);
  }
  const { waiters, listener } = entry;
  return new Promise((resolve) => {
    const w: Waiter = {
      source,
      resolve: (f) => {
        clearTimeout(timer);
        waiters.delete(w);
        if (waiters.size === 0) {
          pipeline.off('frame', listener);
          waiting.delete(pipeline);
        }
        resolve(f);
      },
    };
    const timer = setTimeout(() => w.resolve(null), timeoutMs);
    waiters.add(w);
  });
}
