// Groups results into one window per source and interval (default 1 s). A window closes on
// the first result past its end, on a timer when results stop, and on flush at shutdown.

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
  start: number;
  end: number;
  intervalMs: number;
  frames: WindowFrame[];
}

interface Open {
  w: ClosedWindow;
}

export class Windows {
  #intervalMs: number;
  readonly #open = new Map<string, Open>();
  readonly #timer: NodeJS.Timeout;

  constructor(intervalMs: number, private readonly onClose: (w: ClosedWindow) => void) {
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

  add(source: string, sourceKind: string, model: ClosedWindow['model'], frame: WindowFrame): void {
    const now = Date.now();
    let o = this.#open.get(source);
    if (o && (now >= o.w.end || o.w.model.sha256 !== model.sha256)) {
      this.#close(source, o);
      o = undefined;
    }
    if (!o) {
      o = { w: { source, sourceKind, model, start: now, end: now + this.#intervalMs, intervalMs: this.#intervalMs, frames: [] } };
      this.#open.set(source, o);
    }
    o.w.frames.push(frame);
  }

  #closeDue(now: number): void {
    for (const [source, o] of this.#open) if (now >= o.w.end) this.#close(source, o);
  }

  #close(source: string, o: Open): void {
    this.#open.delete(source);
    this.onClose(o.w);
  }

  /** Closes every open window now (shutdown). */
  flush(): void {
    for (const [source, o] of [...this.#open]) {
      o.w.end = Math.min(o.w.end, Date.now());
      this.#close(source, o);
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
