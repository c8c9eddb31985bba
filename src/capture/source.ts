// The one interface every frame source implements, and the shared pieces: counters and the
// single-slot hand-off that gives live sources "latest frame wins" semantics.

import type { Frame } from '../types.js';
import type { SourceKind } from '../config/schema.js';
import { abortReason } from '../errors.js';

export interface SourceStats {
  captured: number;
  /** Live frames replaced by a newer one before anyone took them. */
  dropped: number;
  restarts: number;
  /** Bytes that could not be framed (garbage between JPEG markers). */
  corrupt: number;
}

export interface FrameSource {
  readonly id: string;
  readonly kind: SourceKind;
  /** Live sources (cameras, streams) drop to the newest frame; others are lossless. */
  readonly live: boolean;
  readonly stats: SourceStats;
  /** Webcams: how frames are read, and why not natively when the addon could not be used. */
  readonly backend?: 'native' | 'ffmpeg';
  readonly backendReason?: string;
  /** Webcams on the native backend: sets camera controls live; throws ERR_CAMERA_CONTROL. */
  setControls?(controls: Record<string, number>): void;
  /** Current control values by key (native webcams). */
  readControls?(): Record<string, number>;
  /** Starts capturing. Throws ERR_SOURCE_UNREADABLE when the source can never work. */
  open(): Promise<void>;
  /**
   * The next frame, or null when the source has ended. Lossless sources produce on demand;
   * live sources hand over their newest frame. Rejects only when aborted.
   */
  next(signal?: AbortSignal): Promise<Frame | null>;
  close(): Promise<void>;
}

export function newStats(): SourceStats {
  return { captured: 0, dropped: 0, restarts: 0, corrupt: 0 };
}

/**
 * Hand-off between a producer and one consumer. In `latest` mode a new frame replaces an
 * untaken one (counted as dropped); in `queue` mode frames wait, bounded by `capacity`, and
 * `full` tells the producer to pause.
 */
export class FrameSlot {
  #items: Frame[] = [];
  #waiter: ((f: Frame | null) => void) | null = null;
  #ended = false;
  readonly #latest: boolean;
  readonly #capacity: number;
  readonly #stats: SourceStats;
  onDrain: (() => void) | null = null;

  constructor(mode: 'latest' | 'queue', stats: SourceStats, capacity = 2) {
    this.#latest = mode === 'latest';
    this.#capacity = capacity;
    this.#stats = stats;
  }

  get full(): boolean {
    return !this.#latest && this.#items.length >= this.#capacity;
  }

  push(frame: Frame): void {
    this.#stats.captured++;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = null;
      w(frame);
      return;
    }
    if (this.#latest && this.#items.length > 0) {
      this.#stats.dropped += this.#items.length;
      this.#items.length = 0;
    }
    this.#items.push(frame);
  }

  end(): void {
    this.#ended = true;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = null;
      w(null);
    }
  }

  take(signal?: AbortSignal): Promise<Frame | null> {
    const f = this.#items.shift();
    if (f) {
      if (!this.full) this.onDrain?.();
      return Promise.resolve(f);
    }
    if (this.#ended) return Promise.resolve(null);
    this.onDrain?.();
    return waitForFrame(signal, (w) => (this.#waiter = w));
  }
}

/**
 * The one pending `next()` of a source: `park` stores the resolver the source calls with the
 * next frame (or null at its end), and clears it (null) when `signal` aborts the wait.
 */
export function waitForFrame(signal: AbortSignal | undefined, park: (waiter: ((f: Frame | null) => void) | null) => void): Promise<Frame | null> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      park(null);
      reject(abortReason(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    park((f) => {
      signal?.removeEventListener('abort', onAbort);
      resolve(f);
    });
  });
}

/** Sleeps, waking early (and rejecting) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(abortReason(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Keeps a lossless source to a given rate: call before handing out each frame. */
export class Pacer {
  #next = 0;
  constructor(private readonly fps?: number) {}
  async wait(signal?: AbortSignal): Promise<void> {
    if (!this.fps) return;
    const now = performance.now();
    if (this.#next > now) await sleep(this.#next - now, signal);
    this.#next = Math.max(now, this.#next) + 1000 / this.fps;
  }
}
