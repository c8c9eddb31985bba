// Running figures for the pipeline: counters, a sliding window of latencies for percentiles,
// and a frame-rate meter. Cheap enough to update on every frame.

export class LatencyWindow {
  readonly #values: Float64Array;
  #count = 0;
  #next = 0;
  constructor(size = 1024) {
    this.#values = new Float64Array(size);
  }
  add(v: number): void {
    this.#values[this.#next] = v;
    this.#next = (this.#next + 1) % this.#values.length;
    if (this.#count < this.#values.length) this.#count++;
  }
  percentile(p: number): number {
    if (this.#count === 0) return 0;
    const sorted = Array.from(this.#values.subarray(0, this.#count)).sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
  }
  mean(): number {
    if (this.#count === 0) return 0;
    let s = 0;
    for (const v of this.#values.subarray(0, this.#count)) s += v;
    return s / this.#count;
  }
}

/** Events per second over the last `windowMs`. */
export class RateMeter {
  readonly #times: number[] = [];
  constructor(private readonly windowMs = 2000) {}
  mark(now = performance.now()): void {
    this.#times.push(now);
    this.#trim(now);
  }
  rate(now = performance.now()): number {
    this.#trim(now);
    if (this.#times.length < 2) return this.#times.length ? 1000 / this.windowMs : 0;
    const span = Math.max(now - (this.#times[0] ?? now), 1);
    return (this.#times.length * 1000) / Math.max(span, this.windowMs / 2);
  }
  #trim(now: number): void {
    for (let t = this.#times[0]; t !== undefined && now - t > this.windowMs; t = this.#times[0]) this.#times.shift();
  }
}
