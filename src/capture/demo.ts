// The demo source for machines with no camera: public-domain sample photos (installed by
// scripts/setup from Debian's python3-skimage), panned and zoomed so they play like video.
// Frames are rendered once with sharp and replayed, so the demo costs little CPU.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { Frame } from '../types.js';
import type { SourceConfig } from '../config/schema.js';
import { PerceptError } from '../errors.js';
import { type FrameSource, FrameSlot, newStats } from './source.js';

const PHOTOS = ['astronaut.png', 'camera.png', 'coffee.png', 'chelsea.png', 'motorcycle_left.png', 'rocket.jpg'];
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Where the demo photos are looked for, in order. */
export function demoDirs(): string[] {
  return [
    process.env.PERCEPT_DEMO_DIR ?? '',
    path.join(ROOT, '.percept', 'demo'),
    '/usr/share/percept/demo',
    '/usr/lib/python3/dist-packages/skimage/data',
  ].filter(Boolean);
}

export function findDemoPhotos(): string[] {
  for (const dir of demoDirs()) {
    const found = PHOTOS.map((p) => path.join(dir, p)).filter((p) => fs.existsSync(p));
    if (found.length) return found;
  }
  return [];
}

export class DemoSource implements FrameSource {
  readonly live = true;
  readonly kind = 'demo' as const;
  readonly stats = newStats();
  readonly id: string;
  readonly #slot: FrameSlot;
  readonly #fps: number;
  readonly #width: number;
  readonly #height: number;
  readonly #secondsPerPhoto = 4;
  #frames: Buffer[] = [];
  #photos: string[] = [];
  #timer: NodeJS.Timeout | null = null;
  #tick = 0;
  #seq = 0;
  #rendering: Promise<void> | null = null;
  #closed = false;

  constructor(cfg: SourceConfig) {
    this.id = cfg.id;
    this.#fps = cfg.fps ?? 15;
    this.#width = cfg.width ?? 640;
    this.#height = cfg.height ?? 480;
    this.#slot = new FrameSlot('latest', this.stats);
  }

  async open(): Promise<void> {
    this.#photos = findDemoPhotos();
    if (this.#photos.length === 0) {
      throw new PerceptError(
        'ERR_SOURCE_UNREADABLE',
        `demo source: no demo photos found in ${demoDirs().join(', ')}; run scripts/setup (it installs python3-skimage) or set PERCEPT_DEMO_DIR`,
      );
    }
    // Render the first photo's frames before starting so the first frame is immediate.
    await this.#renderPhoto(0);
    this.#rendering = this.#renderRest();
    this.#timer = setInterval(() => this.#emit(), 1000 / this.#fps);
  }

  async #renderRest(): Promise<void> {
    for (let i = 1; i < this.#photos.length && !this.#closed; i++) await this.#renderPhoto(i);
  }

  async #renderPhoto(i: number): Promise<void> {
    const { data, info } = await sharp(this.#photos[i]).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const n = Math.round(this.#secondsPerPhoto * this.#fps);
    const aspect = this.#width / this.#height;
    const baseW = Math.min(info.width, info.height * aspect);
    // Checked per frame: a run that stops must not wait for the remaining photos.
    for (let k = 0; k < n && !this.#closed; k++) {
      const t = k / Math.max(1, n - 1);
      const zoom = 1 + 0.35 * Math.sin(Math.PI * t);
      const cw = Math.max(16, Math.floor(baseW / zoom));
      const ch = Math.max(16, Math.floor(cw / aspect));
      const left = Math.round((info.width - cw) * (i % 2 ? 1 - t : t));
      // Stay near the top, where the faces in these photos are.
      const top = Math.round((info.height - ch) * 0.15 * (1 - Math.cos(2 * Math.PI * t)));
      const jpeg = await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
        .extract({ left, top, width: cw, height: ch })
        .resize(this.#width, this.#height, { fit: 'fill' })
        .jpeg({ quality: 85 })
        .toBuffer();
      this.#frames.push(jpeg);
    }
  }

  #emit(): void {
    const data = this.#frames[this.#tick++ % this.#frames.length];
    if (data === undefined) return; // no frames
    // Each frame gets its own copy: frames are transferred to workers.
    this.#slot.push({
      source: this.id,
      seq: ++this.#seq,
      capturedAt: Date.now(),
      width: this.#width,
      height: this.#height,
      format: 'jpeg',
      data: Buffer.from(data),
      origin: 'demo',
    });
  }

  next(signal?: AbortSignal): Promise<Frame | null> {
    return this.#slot.take(signal);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#slot.end();
    await this.#rendering?.catch(() => undefined);
  }
}
