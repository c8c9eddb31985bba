// Video files, RTSP/HTTP streams, webcams (V4L2) and the synthetic test pattern, read through
// an ffmpeg child process that writes MJPEG to a pipe. A process that dies or stalls is
// restarted with exponential backoff; live sources keep only the newest frame.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type { Frame } from '../types.js';
import type { SourceConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { PerceptError } from '../errors.js';
import { type FrameSource, FrameSlot, newStats, Pacer } from './source.js';
import { MjpegSplitter } from './mjpeg.js';

export interface FfmpegOptions {
  ffmpegPath?: string;
  /** No frame for this long restarts the process. */
  stallMs?: number;
  /** First and longest restart delays. */
  backoffMs?: [number, number];
  logger?: Logger;
}

/** The ffmpeg input arguments for a source. Exported for tests and `percept doctor`. */
export function inputArgs(cfg: SourceConfig, mjpegCamera = true): string[] {
  switch (cfg.kind) {
    case 'webcam': {
      const a = ['-f', 'v4l2'];
      if (mjpegCamera) a.push('-input_format', 'mjpeg');
      if (cfg.width && cfg.height) a.push('-video_size', `${cfg.width}x${cfg.height}`);
      if (cfg.fps) a.push('-framerate', String(cfg.fps));
      return [...a, '-i', cfg.uri];
    }
    case 'rtsp':
      return [...(/^rtsps?:/i.test(cfg.uri) ? ['-rtsp_transport', 'tcp'] : []), '-i', cfg.uri];
    case 'synthetic': {
      const size = `${cfg.width ?? 1280}x${cfg.height ?? 720}`;
      return ['-re', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${cfg.fps ?? 30}`];
    }
    default:
      return ['-i', cfg.uri];
  }
}

export class FfmpegSource implements FrameSource {
  readonly stats = newStats();
  readonly id: string;
  readonly kind: SourceConfig['kind'];
  readonly live: boolean;
  #slot: FrameSlot;
  #proc: ChildProcess | null = null;
  #seq = 0;
  #closed = false;
  #mjpegCamera = true;
  #failures = 0;
  #lastFrameAt = 0;
  #stallTimer: NodeJS.Timeout | null = null;
  #restartTimer: NodeJS.Timeout | null = null;
  #stderrTail = '';
  readonly #pacer: Pacer;
  readonly #opts: Required<Omit<FfmpegOptions, 'logger'>> & { logger?: Logger };

  constructor(private readonly cfg: SourceConfig, opts: FfmpegOptions = {}) {
    this.id = cfg.id;
    this.kind = cfg.kind;
    this.live = cfg.kind === 'webcam' || cfg.kind === 'rtsp' || cfg.kind === 'synthetic';
    this.#slot = new FrameSlot(this.live ? 'latest' : 'queue', this.stats, 2);
    this.#slot.onDrain = () => this.#proc?.stdout?.resume();
    this.#pacer = new Pacer(this.live ? undefined : cfg.fps);
    this.#opts = { ffmpegPath: opts.ffmpegPath ?? 'ffmpeg', stallMs: opts.stallMs ?? 10_000, backoffMs: opts.backoffMs ?? [500, 30_000], logger: opts.logger };
  }

  async open(): Promise<void> {
    if (this.kind === 'video' && !fs.existsSync(this.cfg.uri)) {
      throw new PerceptError('ERR_SOURCE_UNREADABLE', `source '${this.id}': video file ${this.cfg.uri} does not exist; check the path`);
    }
    this.#spawn();
  }

  #spawn(): void {
    if (this.#closed) return;
    const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', ...inputArgs(this.cfg, this.#mjpegCamera)];
    if (this.kind === 'webcam' && this.#mjpegCamera) args.push('-c:v', 'copy');
    else args.push('-c:v', 'mjpeg', '-q:v', '3', '-pix_fmt', 'yuvj420p');
    args.push('-f', 'mjpeg', 'pipe:1');
    const splitter = new MjpegSplitter();
    const proc = spawn(this.#opts.ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#proc = proc;
    this.#stderrTail = '';
    this.#lastFrameAt = Date.now();
    proc.stdout!.on('data', (chunk: Buffer) => {
      for (const data of splitter.push(chunk)) {
        this.#lastFrameAt = Date.now();
        this.#failures = 0;
        this.#slot.push({ source: this.id, seq: ++this.#seq, capturedAt: Date.now(), width: 0, height: 0, format: 'jpeg', data, origin: this.cfg.uri || this.kind });
      }
      this.stats.corrupt = splitter.garbage;
      if (this.#slot.full) proc.stdout!.pause();
    });
    proc.stderr!.on('data', (c: Buffer) => {
      this.#stderrTail = (this.#stderrTail + c.toString()).slice(-2000);
    });
    proc.on('error', (e) => {
      this.#opts.logger?.error({ source: this.id, err: e }, 'cannot start ffmpeg: install it (apt-get install ffmpeg) or set its path');
    });
    proc.on('close', (code, sig) => this.#exited(proc, code, sig));
    if (this.live) this.#armStall();
  }

  #armStall(): void {
    if (this.#stallTimer) clearInterval(this.#stallTimer);
    this.#stallTimer = setInterval(() => {
      if (this.#proc && Date.now() - this.#lastFrameAt > this.#opts.stallMs) {
        this.#opts.logger?.warn({ source: this.id, stallMs: this.#opts.stallMs }, 'source stalled; restarting it');
        this.#proc.kill('SIGKILL');
      }
    }, Math.min(1000, this.#opts.stallMs / 2));
    this.#stallTimer.unref();
  }

  #exited(proc: ChildProcess, code: number | null, sig: NodeJS.Signals | null): void {
    if (proc !== this.#proc) return;
    this.#proc = null;
    if (this.#closed) return;
    const err = this.#stderrTail.trim().split('\n').slice(-3).join(' | ');
    if (!this.live && code === 0) {
      // A file that played to its end.
      if (this.cfg.loop) return this.#spawn();
      this.#slot.end();
      return;
    }
    if (this.kind === 'webcam' && this.#mjpegCamera && this.#seq === 0) {
      // The camera may not offer MJPEG: try its raw format, encoded by ffmpeg.
      this.#mjpegCamera = false;
      this.#opts.logger?.info({ source: this.id }, 'camera did not stream MJPEG; reading its raw format instead');
      return this.#spawn();
    }
    this.#failures++;
    this.stats.restarts++;
    const [lo, hi] = this.#opts.backoffMs;
    const delay = Math.min(hi, lo * 2 ** Math.min(this.#failures - 1, 16)) * (0.5 + Math.random() / 2);
    this.#opts.logger?.warn({ source: this.id, code, signal: sig, ffmpeg: err || undefined, retryInMs: Math.round(delay) }, 'source ended unexpectedly; restarting');
    this.#restartTimer = setTimeout(() => this.#spawn(), delay);
  }

  async next(signal?: AbortSignal): Promise<Frame | null> {
    await this.#pacer.wait(signal);
    return this.#slot.take(signal);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#stallTimer) clearInterval(this.#stallTimer);
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    const p = this.#proc;
    this.#proc = null;
    this.#slot.end();
    if (p && p.exitCode === null) {
      await new Promise<void>((resolve) => {
        p.once('close', () => resolve());
        p.kill('SIGTERM');
        setTimeout(() => p.kill('SIGKILL'), 2000).unref();
      });
    }
  }
}
