// Picks the frame source for a source config. Webcams are read natively (native/v4l2) unless
// the source asks for ffmpeg or the addon cannot load, which is logged and kept as the
// source's `backendReason`.

import type { SourceConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { FrameSource } from './source.js';
import { FileSource } from './files.js';
import { FfmpegSource, type FfmpegOptions } from './ffmpeg.js';
import { DemoSource } from './demo.js';
import { V4l2Source, type V4l2Options } from './v4l2.js';
import { tryV4l2Binding } from './cameras.js';

export type { FrameSource, SourceStats } from './source.js';

export function createSource(cfg: SourceConfig, opts: { logger?: Logger; ffmpeg?: FfmpegOptions; v4l2?: V4l2Options } = {}): FrameSource {
  switch (cfg.kind) {
    case 'image':
    case 'folder':
      return new FileSource(cfg);
    case 'demo':
      return new DemoSource(cfg);
    case 'webcam':
      return createCamera(cfg, opts);
    default:
      return new FfmpegSource(cfg, { ...opts.ffmpeg, logger: opts.logger });
  }
}

function createCamera(cfg: SourceConfig, opts: { logger?: Logger; ffmpeg?: FfmpegOptions; v4l2?: V4l2Options }): FrameSource {
  const ffmpeg = (fallbackReason?: string) => {
    if (cfg.controls)
      opts.logger?.warn({ source: cfg.id }, `source '${cfg.id}': controls are set only by the native backend; ffmpeg reads the camera as it is`);
    return new FfmpegSource(cfg, { ...opts.ffmpeg, logger: opts.logger, fallbackReason });
  };
  if (cfg.backend === 'ffmpeg') return ffmpeg();
  const { binding, error } = tryV4l2Binding();
  if (binding) return new V4l2Source(cfg, binding, { ...opts.v4l2, logger: opts.logger });
  const reason = error.message.split('\n')[0];
  opts.logger?.warn({ source: cfg.id, reason }, `native camera capture unavailable; reading ${cfg.uri} through ffmpeg (${error.message.replace(/\n/g, ' ')})`);
  return ffmpeg(reason);
}
