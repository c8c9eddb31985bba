// Picks the frame source for a source config.

import type { SourceConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { FrameSource } from './source.js';
import { FileSource } from './files.js';
import { FfmpegSource, type FfmpegOptions } from './ffmpeg.js';
import { DemoSource } from './demo.js';

export type { FrameSource, SourceStats } from './source.js';

export function createSource(cfg: SourceConfig, opts: { logger?: Logger; ffmpeg?: FfmpegOptions } = {}): FrameSource {
  switch (cfg.kind) {
    case 'image':
    case 'folder':
      return new FileSource(cfg);
    case 'demo':
      return new DemoSource(cfg);
    default:
      return new FfmpegSource(cfg, { ...opts.ffmpeg, logger: opts.logger });
  }
}
