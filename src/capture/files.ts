// Still images and folders of images: lossless, in name order, optionally looped, paced by
// the consumer unless an fps is set. A file that is not an image still becomes a frame: the
// worker that decodes it reports it as corrupt, so one bad file never stops the run.

import fs from 'node:fs';
import path from 'node:path';
import type { Frame, FrameFormat } from '../types.js';
import type { SourceConfig } from '../config/schema.js';
import { PerceptError } from '../errors.js';
import { type FrameSource, newStats, Pacer } from './source.js';

const IMAGE_EXT = /\.(jpe?g|png|webp|bmp|tiff?|gif)$/i;

export function formatOf(file: string): FrameFormat {
  if (/\.jpe?g$/i.test(file)) return 'jpeg';
  if (/\.png$/i.test(file)) return 'png';
  return 'encoded';
}

export class FileSource implements FrameSource {
  readonly live = false;
  readonly stats = newStats();
  readonly id: string;
  readonly kind: 'image' | 'folder';
  #files: string[] = [];
  #index = 0;
  #seq = 0;
  #closed = false;
  readonly #pacer: Pacer;

  constructor(private readonly cfg: SourceConfig) {
    this.id = cfg.id;
    this.kind = cfg.kind === 'folder' ? 'folder' : 'image';
    this.#pacer = new Pacer(cfg.fps);
  }

  async open(): Promise<void> {
    const uri = this.cfg.uri;
    let st: fs.Stats;
    try {
      st = fs.statSync(uri);
    } catch (e) {
      throw new PerceptError(
        'ERR_SOURCE_UNREADABLE',
        `source '${this.id}': cannot read ${uri} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the path and its permissions`,
      );
    }
    if (st.isDirectory()) {
      this.#files = fs
        .readdirSync(uri)
        .filter((n) => IMAGE_EXT.test(n))
        .sort()
        .map((n) => path.join(uri, n));
      if (this.#files.length === 0) {
        throw new PerceptError('ERR_SOURCE_UNREADABLE', `source '${this.id}': folder ${uri} holds no images (.jpg .png .webp .bmp .tif .gif)`);
      }
    } else {
      this.#files = [uri];
    }
  }

  async next(signal?: AbortSignal): Promise<Frame | null> {
    if (this.#closed) return null;
    if (this.#index >= this.#files.length) {
      if (!this.cfg.loop) return null;
      this.#index = 0;
    }
    await this.#pacer.wait(signal);
    // The frame is taken when the pacer lets it go; reading the file is not part of its time.
    const capturedAt = Date.now();
    const file = this.#files[this.#index++];
    if (file === undefined) return null; // an empty listing
    let data: Buffer;
    try {
      data = await fs.promises.readFile(file);
    } catch {
      // Vanished between listing and reading: skip it, counted, and go on.
      this.stats.corrupt++;
      return this.next(signal);
    }
    this.stats.captured++;
    return { source: this.id, seq: ++this.#seq, capturedAt, width: 0, height: 0, format: formatOf(file), data, origin: file };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
