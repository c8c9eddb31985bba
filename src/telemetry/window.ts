// Groups results into one window per source and interval (default 1 s), on the capture clock:
// window k of a source spans [k*interval, (k+1)*interval) in Unix milliseconds, and a frame goes
// in the window holding its capturedAt, so every frame is in exactly one window, whenever it ends.

import type { Detection } from '../types.js';

export interface WindowFrame {
  seq: number;
  capturedAt: number;
  width: number;
  height: number;
  detections: Detection[];
}

export interface ClosedWindow {
  source: string;
  sourceKind: string;
  model: { name: string; version: string; sha256: string };
  /** Every frame's capturedAt lies in [start, end). */
  start: number;
  end: number;
  intervalMs: number;
  frames: WindowFrame[];
}

interface Source {
  open: ClosedWindow | null;
  /** End of the last window published: the next one starts no earlier. */
  lastEnd: number;
}

export class Windows {
  #intervalMs: number;
  readonly #sources = new Map<string, Source>();
  readonly #timer: NodeJS.Timeout;

  constructor(
    intervalMs: number,
    private readonly onClose: (w: ClosedWindow) => void,
  ) {
    this.#intervalMs = intervalMs;
    this.#timer = setInterval(() => this.#closeDue(Date.now()), Math.min(250, intervalMs));
    this.#timer.unref();
  }

  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Takes effect from the next window of each source. */
  setInterval(ms: number): void {
    this.#intervalMs = ms;
  }

  /**
   * Results of one source arrive in capture order, so a window is published when the first frame
   * past its end arrives, or by the timer once the wall clock is past its end by the grace.
   */
  add(source: string, sourceKind: string, model: ClosedWindow['model'], frame: WindowFrame): void {
    let s = this.#sources.get(source);
    if (!s) {
      s = { open: null, lastEnd: Number.NEGATIVE_INFINITY };
      this.#sources.set(source, s);
    }
    const t = frame.capturedAt;
    let o = s.open;
    if (o && (t >= o.end || t < o.start)) {
      this.#close(s);
      o = null;
    } else if (o && o.model.sha256 !== model.sha256) {
      // A new model mid-window: the window ends at this frame and the next begins with it.
      o.end = t;
      this.#close(s);
      o = null;
    }
    if (!o) {
      const aligned = Math.floor(t / this.#intervalMs) * this.#intervalMs;
      // After an interval change or a model change the window starts where the last one ended,
      // so windows never overlap. A frame whose window was already published (its result came
      // later than the grace) goes in a further window over its own span instead.
      const start = t < s.lastEnd ? aligned : Math.max(aligned, s.lastEnd);
      const end = aligned + this.#intervalMs;
      o = { source, sourceKind, model, start, end, intervalMs: this.#intervalMs, frames: [] };
      s.open = o;
    }
    o.frames.push(frame);
  }

  /** How long past a window's end the timer waits for results still in the workers. */
  get #graceMs(): number {
    return Math.min(this.#intervalMs, 2000);
  }

  #closeDue(now: number): void {
    for (const s of this.#sources.values()) if (s.open && now >= s.open.end + this.#graceMs) this.#close(s);
  }

  #close(s: Source): void {
    const w = s.open!;
    s.open = null;
    s.lastEnd = Math.max(s.lastEnd, w.end);
    this.onClose(w);
  }

  /** Publishes every open window now (shutdown); each keeps its span. */
  flush(): void {
    for (const s of this.#sources.values()) if (s.open) this.#close(s);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
