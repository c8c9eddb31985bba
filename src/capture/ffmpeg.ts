// Video files, RTSP/HTTP streams, webcams (V4L2) and the synthetic source (the test pattern, or a
// still photo played as a camera would), read through an ffmpeg child process that writes MJPEG
// to a pipe. Opening waits for the first frame, so a source that can never work fails at once;
// one that dies or stalls after it delivered frames is restarted with exponential backoff. Live
// sources keep only the newest frame.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type { Frame } from '../types.js';
import type { SourceConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { PerceptError } from '../errors.js';
import { type FrameSource, FrameSlot, newStats, Pacer } from './source.js';
import { MjpegSplitter } from './mjpeg.js';
import { cameraExists } from './cameras.js';

export interface FfmpegOptions {
  ffmpegPath?: string;
  /** No frame for this long restarts the process (or, before the first frame, fails the open). */
  stallMs?: number;
  /** First and longest restart delays. */
  backoffMs?: [number, number];
  logger?: Logger;
  /** Why a webcam is read through ffmpeg although native capture is the default. */
  fallbackReason?: string;
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
      // A still photo as a live camera: ffmpeg repeats it at the rate, on the clock.
      if (cfg.uri) return ['-re', '-loop', '1', '-framerate', String(cfg.fps ?? 30), '-i', cfg.uri];
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
  readonly backend?: 'ffmpeg';
  readonly backendReason?: string;
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
  /** Settles the pending open() at the first frame, or with the reason there will be none. */
  #opening: { resolve: () => void; reject: (e: PerceptError) => void } | null = null;
  readonly #pacer: Pacer;
  readonly #opts: Required<Omit<FfmpegOptions, 'logger' | 'fallbackReason'>> & { logger?: Logger };

  constructor(
    private readonly cfg: SourceConfig,
    opts: FfmpegOptions = {},
  ) {
    this.id = cfg.id;
    this.kind = cfg.kind;
    this.live = cfg.kind === 'webcam' || cfg.kind === 'rtsp' || cfg.kind === 'synthetic';
    this.#slot = new FrameSlot(this.live ? 'latest' : 'queue', this.stats, 2);
    this.#slot.onDrain = () => this.#proc?.stdout?.resume();
    this.#pacer = new Pacer(this.live ? undefined : cfg.fps);
    this.#opts = { ffmpegPath: opts.ffmpegPath ?? 'ffmpeg', stallMs: opts.stallMs ?? 10_000, backoffMs: opts.backoffMs ?? [500, 30_000], logger: opts.logger };
    if (cfg.kind === 'webcam') {
      this.backend = 'ffmpeg';
      this.backendReason = opts.fallbackReason;
    }
  }

  async open(): Promise<void> {
    const isFile = this.kind === 'video' || (this.kind === 'synthetic' && this.cfg.uri !== '');
    const exists = this.kind === 'webcam' ? await cameraExists(this.cfg.uri) : !isFile || fs.existsSync(this.cfg.uri);
    if (!exists) {
      const what = this.kind === 'webcam' ? `no such device ${this.cfg.uri}` : `${this.cfg.uri} not found (no such file or folder)`;
      throw unreadable(this.id, what, this.kind === 'webcam' ? 'check that the camera is plugged in' : 'check the path');
    }
    const first = new Promise<void>((resolve, reject) => (this.#opening = { resolve, reject }));
    const timer = setTimeout(() => {
      this.#opening?.reject(
        unreadable(this.id, `${this.cfg.uri || this.kind}: no frame within ${this.#opts.stallMs / 1000} s`, 'check that it is up and streams video'),
      );
    }, this.#opts.stallMs);
    this.#spawn();
    try {
      await first;
    } catch (e) {
      await this.close();
      throw e;
    } finally {
      clearTimeout(timer);
      this.#opening = null;
    }
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
    proc.stdout.on('data', (chunk: Buffer) => {
      for (const data of splitter.push(chunk)) {
        this.#lastFrameAt = Date.now();
        this.#failures = 0;
        this.#slot.push({
          source: this.id,
          seq: ++this.#seq,
          capturedAt: Date.now(),
          width: 0,
          height: 0,
          format: 'jpeg',
          data,
          origin: this.cfg.uri || this.kind,
        });
        this.#opening?.resolve();
      }
      this.stats.corrupt = splitter.garbage;
      if (this.#slot.full) proc.stdout.pause();
    });
    proc.stderr.on('data', (c: Buffer) => {
      this.#stderrTail = (this.#stderrTail + c.toString()).slice(-2000);
    });
    proc.on('error', (e) => {
      const msg = 'cannot start ffmpeg: install it (apt-get install ffmpeg) or set its path';
      if (this.#opening) this.#stderrTail = `${msg} (${(e as NodeJS.ErrnoException).code ?? e.message})`;
      else this.#opts.logger?.error({ source: this.id, err: e }, msg);
    });
    proc.on('close', (code, sig) => this.#exited(proc, code, sig));
    if (this.live) this.#armStall();
  }

  #armStall(): void {
    if (this.#stallTimer) clearInterval(this.#stallTimer);
    this.#stallTimer = setInterval(
      () => {
        // Before the first frame the open's own deadline decides.
        if (this.#proc && !this.#opening && Date.now() - this.#lastFrameAt > this.#opts.stallMs) {
          this.#opts.logger?.warn({ source: this.id, stallMs: this.#opts.stallMs }, 'source stalled; restarting it');
          this.#proc.kill('SIGKILL');
        }
      },
      Math.min(1000, this.#opts.stallMs / 2),
    );
    this.#stallTimer.unref();
  }

  #exited(proc: ChildProcess, code: number | null, sig: NodeJS.Signals | null): void {
    if (proc !== this.#proc) return;
    this.#proc = null;
    if (this.#closed) return;
    const err = this.#stderrTail.trim().split('\n').slice(-3).join(' | ');
    if (this.#opening && !(this.kind === 'webcam' && this.#mjpegCamera)) {
      // It never delivered a frame: nothing suggests it will, so say why now instead of
      // retrying forever. Only a source that once worked is worth waiting for.
      this.#opening.reject(this.#neverStarted(code, err));
      return;
    }
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
    this.#opts.logger?.warn(
      { source: this.id, code, signal: sig, ffmpeg: err || undefined, retryInMs: Math.round(delay) },
      'source ended unexpectedly; restarting',
    );
    this.#restartTimer = setTimeout(() => this.#spawn(), delay);
  }

  #neverStarted(code: number | null, ffmpeg: string): PerceptError {
    const target = this.cfg.uri || this.kind;
    const detail = ffmpeg ? ` (ffmpeg: ${ffmpeg})` : '';
    if (/cannot start ffmpeg/.test(ffmpeg)) return unreadable(this.id, ffmpeg, 'or pass a file or folder of images');
    if (/connection refused/i.test(ffmpeg))
      return unreadable(this.id, `${target}: connection refused${detail}`, 'check the address and port, and that the stream is up');
    if (/resolve|name or service not known|no address associated/i.test(ffmpeg))
      return unreadable(this.id, `${target}: unknown host${detail}`, 'check the host name');
    if (/\b404\b|not found|no such file/i.test(ffmpeg)) return unreadable(this.id, `${target}: not found${detail}`, 'check the path of the stream');
    if (/\b401\b|unauthori[sz]ed|forbidden|\b403\b/i.test(ffmpeg))
      return unreadable(this.id, `${target}: access refused${detail}`, 'check the user name and password in the URL');
    if (/timed? ?out/i.test(ffmpeg)) return unreadable(this.id, `${target}: timed out${detail}`, 'check the address and that the stream is up');
    if (code === 0) return unreadable(this.id, `${target} holds no video frames`, 'check that it is a video');
    return unreadable(
      this.id,
      `${target} delivered no frame (ffmpeg exited with ${code ?? 'a signal'})${detail}`,
      'check that it is a video, camera or stream ffmpeg can read',
    );
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
    if (!p) return;
    // Its stdout may be paused (the queue was full) with ffmpeg blocked writing to it: let go
    // of the pipes, so ffmpeg is not left blocked and no open pipe keeps this process alive,
    // and wait for 'exit', not 'close' (which also waits for the pipes to be read to the end).
    p.stdout?.destroy();
    p.stderr?.destroy();
    if (p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => p.kill('SIGKILL'), 2000);
      p.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      p.kill('SIGTERM');
    });
  }
}

/** The error of a source that cannot work, with what to check and where to go next. */
function unreadable(id: string, what: string, check: string): PerceptError {
  return new PerceptError(
    'ERR_SOURCE_UNREADABLE',
    `source '${id}': ${what}; ${check}. 'percept doctor' shows the cameras and tools this machine offers; '--source demo' runs on sample photos`,
  );
}
