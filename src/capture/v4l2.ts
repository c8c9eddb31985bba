// A webcam read through the native V4L2 addon: no ffmpeg, no pipe. MJPEG frames pass through as
// JPEG; YUYV and NV12 go to the workers raw. The camera's own one-frame slot is the hand-off:
// the frame waits in the addon until the pipeline takes it (then done()), so the addon's drop
// counter is this source's `dropped`. A camera that never delivered fails open at once with the
// reason; one that worked and then failed (unplugged, I/O error, stalled) reopens with backoff.

import type { Frame } from '../types.js';
import type { SourceConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { PerceptError } from '../errors.js';
import { waitForFrame, type FrameSource, type SourceStats } from './source.js';
import type { NativeCamera, NativeCameraError, NativeControlInfo, NativeFrame, NativeStreamInfo, NativeV4l2Binding } from './v4l2-binding.js';
import { chooseMode, offeredFormats, type CaptureMode } from './cameras.js';

export interface V4l2Options {
  /** No frame captured for this long restarts the camera (or, before the first frame, fails the open). */
  stallMs?: number;
  /** First and longest reopen delays. */
  backoffMs?: [number, number];
  logger?: Logger;
}

type Counters = Pick<SourceStats, 'captured' | 'dropped' | 'corrupt'>;

export class V4l2Source implements FrameSource {
  readonly backend = 'native' as const;
  readonly id: string;
  readonly kind = 'webcam' as const;
  readonly live = true;
  readonly #binding: NativeV4l2Binding;
  readonly #cfg: SourceConfig;
  readonly #opts: Required<Omit<V4l2Options, 'logger'>> & { logger?: Logger };
  #camera: NativeCamera | null = null;
  #mode: CaptureMode | null = null;
  #stream: NativeStreamInfo | null = null;
  #controls: NativeControlInfo[] = [];
  /** The frame the addon handed over and the pipeline has not taken yet. */
  #held: Frame | null = null;
  #waiter: ((f: Frame | null) => void) | null = null;
  /** Counters of the cameras closed before this one (each reopen starts a new native camera). */
  #past: Counters = { captured: 0, dropped: 0, corrupt: 0 };
  #restarts = 0;
  #failures = 0;
  #seq = 0;
  #closed = false;
  #lastCaptured = 0;
  #lastProgressAt = 0;
  #stallTimer: NodeJS.Timeout | null = null;
  #restartTimer: NodeJS.Timeout | null = null;
  #opening: { resolve: () => void; reject: (e: PerceptError) => void } | null = null;

  constructor(cfg: SourceConfig, binding: NativeV4l2Binding, opts: V4l2Options = {}) {
    this.id = cfg.id;
    this.#cfg = { ...cfg };
    this.#binding = binding;
    this.#opts = { stallMs: opts.stallMs ?? 10_000, backoffMs: opts.backoffMs ?? [500, 30_000], logger: opts.logger };
  }

  get stats(): SourceStats {
    const s = this.#camera?.stats();
    return {
      captured: this.#past.captured + (s?.captured ?? 0),
      dropped: this.#past.dropped + (s?.dropped ?? 0),
      corrupt: this.#past.corrupt + (s?.corrupt ?? 0),
      restarts: this.#restarts,
    };
  }

  /** What the driver granted: format, size, stride, rate (null until open). */
  get stream(): NativeStreamInfo | null {
    return this.#stream;
  }

  async open(): Promise<void> {
    const uri = this.#cfg.uri;
    const desc = await this.#binding.describe(uri);
    if (desc.error?.code === 'ERR_CAMERA_NOT_FOUND') throw unreadable(this.id, `no such device ${uri}; check that the camera is plugged in`, desc.error);
    if (desc.error) throw unreadable(this.id, `${uri}: ${desc.error.message}`, desc.error);
    if (!desc.capture)
      throw unreadable(this.id, `${uri} is not a video capture device (a camera's metadata node?); 'percept cameras' shows which node streams`);
    this.#controls = desc.controls;
    this.#mode = chooseMode(desc, this.#cfg);
    if (!this.#mode)
      throw unreadable(
        this.id,
        `${uri} offers no format percept reads (it offers ${offeredFormats(desc)}; percept reads MJPEG, YUYV or NV12); try backend: "ffmpeg"`,
      );
    if (this.#cfg.controls) this.#checkControls(this.#cfg.controls);
    const first = new Promise<void>((resolve, reject) => (this.#opening = { resolve, reject }));
    const timer = setTimeout(() => this.#opening?.reject(unreadable(this.id, `${uri}: no frame within ${this.#opts.stallMs / 1000} s`)), this.#opts.stallMs);
    try {
      await this.#start();
      await first;
    } catch (e) {
      await this.close();
      throw PerceptError.is(e) ? e : unreadable(this.id, `${uri}: ${(e as Error).message}`, e);
    } finally {
      clearTimeout(timer);
      this.#opening = null;
    }
    this.#armStall();
  }

  /** Opens a native camera in the chosen mode and sets the configured controls on it. */
  async #start(): Promise<void> {
    const cam = new this.#binding.Camera(
      this.#cfg.uri,
      (f) => this.#onFrame(cam, f),
      (e) => this.#onError(cam, e),
    );
    this.#camera = cam;
    this.#lastCaptured = 0;
    this.#lastProgressAt = Date.now();
    try {
      this.#stream = await cam.open({ ...this.#mode! });
      if (this.#cfg.controls) this.#setControls(cam, this.#cfg.controls);
    } catch (e) {
      this.#retire(cam);
      throw e;
    }
    if (this.#closed) this.#retire(cam);
  }

  /** Closes a camera and keeps its counters. */
  #retire(cam: NativeCamera): void {
    cam.close();
    if (this.#camera !== cam) return;
    const s = cam.stats();
    this.#past = { captured: this.#past.captured + s.captured, dropped: this.#past.dropped + s.dropped, corrupt: this.#past.corrupt + s.corrupt };
    this.#camera = null;
  }

  #onFrame(cam: NativeCamera, nf: NativeFrame): void {
    if (cam !== this.#camera) return;
    this.#failures = 0;
    const frame: Frame = {
      source: this.id,
      seq: ++this.#seq,
      capturedAt: Date.now(),
      width: nf.width,
      height: nf.height,
      format: nf.format === 'mjpeg' ? 'jpeg' : nf.format,
      data: nf.format === 'mjpeg' ? bufferOf(nf.data) : packed(nf, cam),
      origin: this.#cfg.uri,
      release: (memory) => cam.recycle(memory),
    };
    this.#opening?.resolve();
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = null;
      cam.done();
      w(frame);
    } else {
      // The addon holds newer frames (newest wins, counted) until done().
      this.#held = frame;
    }
  }

  #onError(cam: NativeCamera, err: NativeCameraError): void {
    if (cam !== this.#camera || this.#closed) return;
    this.#retire(cam);
    if (this.#opening) {
      // It never delivered a frame: say why now instead of retrying forever.
      this.#opening.reject(unreadable(this.id, `${this.#cfg.uri}: ${err.message}`, err));
      return;
    }
    this.#scheduleRestart(
      { code: err.code, errno: err.errnoName ?? undefined },
      err.code === 'ERR_CAMERA_GONE' ? 'camera gone (unplugged?); reopening it' : 'camera failed; reopening it',
    );
  }

  #scheduleRestart(fields: Record<string, unknown>, msg: string): void {
    if (this.#closed) return;
    this.#failures++;
    this.#restarts++;
    const [lo, hi] = this.#opts.backoffMs;
    const delay = Math.min(hi, lo * 2 ** Math.min(this.#failures - 1, 16)) * (0.5 + Math.random() / 2);
    this.#opts.logger?.warn({ source: this.id, ...fields, retryInMs: Math.round(delay) }, msg);
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null;
      this.#start().then(
        () => this.#camera && this.#opts.logger?.info({ source: this.id, restarts: this.#restarts }, 'camera reopened'),
        (e: NativeCameraError | PerceptError) => this.#scheduleRestart({ code: e.code }, `camera could not be reopened: ${e.message.split('\n')[0]}`),
      );
    }, delay);
  }

  #armStall(): void {
    this.#stallTimer = setInterval(
      () => {
        const cam = this.#camera;
        if (!cam) return;
        // Progress is what the camera captures, not what the pipeline takes (a busy pool is no stall).
        const captured = cam.stats().captured;
        if (captured !== this.#lastCaptured) {
          this.#lastCaptured = captured;
          this.#lastProgressAt = Date.now();
        } else if (Date.now() - this.#lastProgressAt > this.#opts.stallMs) {
          this.#retire(cam);
          this.#scheduleRestart({ stallMs: this.#opts.stallMs }, 'source stalled; restarting it');
        }
      },
      Math.min(1000, this.#opts.stallMs / 2),
    );
    this.#stallTimer.unref();
  }

  next(signal?: AbortSignal): Promise<Frame | null> {
    if (this.#held) {
      const f = this.#held;
      this.#held = null;
      this.#camera?.done();
      return Promise.resolve(f);
    }
    if (this.#closed) return Promise.resolve(null);
    return waitForFrame(signal, (w) => (this.#waiter = w));
  }

  /**
   * Sets controls on the open camera (and on every reopen from now on). All are checked against
   * what the camera offers before any is set. Throws ERR_CAMERA_CONTROL with what it accepts.
   */
  setControls(controls: Record<string, number>): void {
    this.#checkControls(controls);
    if (this.#camera) this.#setControls(this.#camera, controls);
    this.#cfg.controls = { ...controls };
  }

  /** Logs what the camera reports for the controls just set (drivers may round a value). */
  #logControls(keys: string[]): void {
    const now = this.readControls();
    this.#opts.logger?.info({ source: this.id, controls: Object.fromEntries(keys.map((k) => [k, now[k] ?? null])) }, 'camera controls set');
  }

  /** Current values of the camera's readable controls, by key (empty while it is not streaming). */
  readControls(): Record<string, number> {
    const out: Record<string, number> = {};
    const cam = this.#camera;
    if (!cam) return out;
    for (const c of this.#controls) {
      if (c.type === 'button') continue;
      try {
        out[c.key] = cam.getControl(c.id);
      } catch {
        // Write-only or inactive: left out.
      }
    }
    return out;
  }

  #checkControls(controls: Record<string, number>): void {
    for (const [key, value] of Object.entries(controls)) {
      const c = this.#controls.find((x) => x.key === key);
      const bad = (what: string) =>
        new PerceptError('ERR_CAMERA_CONTROL', `source '${this.id}': ${what}; 'percept cameras' lists ${this.#cfg.uri}'s controls and their ranges`);
      if (!c) throw bad(`${this.#cfg.uri} has no control '${key}' (it has ${this.#controls.map((x) => x.key).join(', ') || 'none'})`);
      if (c.readOnly) throw bad(`control '${key}' is read-only`);
      if (!Number.isInteger(value) || value < c.minimum || value > c.maximum)
        throw bad(`control '${key}' takes an integer from ${c.minimum} to ${c.maximum}, not ${value}`);
      if (c.menu && !c.menu.some((m) => m.index === value))
        throw bad(`control '${key}' takes one of ${c.menu.map((m) => `${m.index} (${m.name ?? m.value})`).join(', ')}, not ${value}`);
    }
  }

  #setControls(cam: NativeCamera, controls: Record<string, number>): void {
    // In the order given: e.g. exposure_auto to manual before exposure_absolute, which it enables.
    for (const [key, value] of Object.entries(controls)) {
      const c = this.#controls.find((x) => x.key === key)!;
      try {
        cam.setControl(c.id, value);
      } catch (e) {
        const err = e as NativeCameraError;
        if (err.code === 'ERR_CAMERA_GONE') throw e;
        const why = err.errnoName === 'EACCES' ? 'it is inactive now (e.g. exposure_absolute while exposure_auto is automatic)' : err.message;
        throw new PerceptError('ERR_CAMERA_CONTROL', `source '${this.id}': ${this.#cfg.uri} refused ${key}=${value}: ${why}`, { cause: e });
      }
    }
    this.#logControls(Object.keys(controls));
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#stallTimer) clearInterval(this.#stallTimer);
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    if (this.#camera) this.#retire(this.#camera);
    this.#held = null;
    const w = this.#waiter;
    this.#waiter = null;
    w?.(null);
  }
}

/** A Buffer over the addon's frame view, without a copy. */
function bufferOf(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** A raw frame with its rows packed (no stride padding), as the workers take raw frames. The
 * camera's memory goes straight back to it when the rows had to be copied. */
function packed(nf: NativeFrame, cam: NativeCamera): Buffer {
  const row = nf.format === 'yuyv' ? nf.width * 2 : nf.width;
  const data = bufferOf(nf.data);
  if (nf.stride === row) return data;
  // NV12: the Y plane, then ceil(height/2) rows of interleaved UV, each an even number of bytes.
  const uvRow = nf.width + (nf.width & 1);
  const uvRows = nf.format === 'nv12' ? Math.ceil(nf.height / 2) : 0;
  const out = Buffer.allocUnsafe(row * nf.height + uvRow * uvRows);
  let o = 0;
  for (let y = 0; y < nf.height; y++, o += row) data.copy(out, o, y * nf.stride, y * nf.stride + row);
  for (let y = 0, s = nf.height * nf.stride; y < uvRows; y++, o += uvRow, s += nf.stride) data.copy(out, o, s, s + uvRow);
  cam.recycle(nf.data.buffer as ArrayBuffer);
  return out;
}

/** The error of a camera that cannot work, with the native cause (its code says which). */
function unreadable(id: string, what: string, cause?: unknown): PerceptError {
  const code = (cause as { code?: string } | undefined)?.code;
  return new PerceptError(
    'ERR_SOURCE_UNREADABLE',
    `source '${id}': ${what}${code ? ` [${code}]` : ''}. 'percept cameras' lists the cameras and what they offer, 'percept doctor' what this machine offers; '--source demo' runs on sample photos`,
    { cause },
  );
}
