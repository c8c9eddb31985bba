// The agent's one metrics registry: each component gets or creates its counters, gauges and
// histograms here by name at construction, so a rebuilt pipeline or a new hub link continues the
// same series. /metrics renders it; status reads counters synchronously through `Count.value`.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

type LabelValues<L extends string> = Partial<Record<L, string>>;

/** The series key of a label set: the same labels in any order give the same key. */
function keyOf(labels: Record<string, string | undefined> | undefined): string {
  if (!labels) return '';
  return Object.keys(labels)
    .filter((k) => labels[k] !== undefined)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

/**
 * A prom-client counter that also keeps its values where a synchronous reader can see them
 * (prom-client's own `get()` is async, and status is read synchronously).
 */
export class Count<L extends string = string> {
  readonly #counter: Counter<L>;
  readonly #values = new Map<string, number>();

  constructor(counter: Counter<L>) {
    this.#counter = counter;
  }

  inc(n = 1, labels?: LabelValues<L>): void {
    if (!(n >= 0) || !Number.isFinite(n)) return;
    const key = keyOf(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + n);
    if (labels) this.#counter.inc(labels, n);
    else this.#counter.inc(n);
  }

  /** Makes the series exist at 0 (a counter nobody has counted yet is still exported). */
  zero(labels?: LabelValues<L>): void {
    this.inc(0, labels);
  }

  /** The current value of one series (0 when never counted). */
  value(labels?: LabelValues<L>): number {
    return this.#values.get(keyOf(labels)) ?? 0;
  }
}

interface Entry {
  kind: 'counter' | 'gauge' | 'histogram';
  labels: string;
  metric: Count<string> | Gauge<string> | Histogram<string>;
}

export class Metrics {
  readonly registry = new Registry();
  readonly #entries = new Map<string, Entry>();
  readonly #hooks = new Set<() => void>();
  #defaults = false;

  /**
   * The entry under `name`, created on first use. Asking for the same name with another kind or
   * other labels is a programming error, thrown at construction of the component that does it.
   */
  #get<M extends Entry['metric']>(name: string, kind: Entry['kind'], labelNames: readonly string[], make: () => M): M {
    const labels = [...labelNames].sort().join(',');
    const found = this.#entries.get(name);
    if (found) {
      if (found.kind !== kind || found.labels !== labels)
        throw new Error(`metric ${name} is already registered as a ${found.kind} with labels [${found.labels}]`);
      return found.metric as M;
    }
    const metric = make();
    this.#entries.set(name, { kind, labels, metric });
    return metric;
  }

  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Count<L> {
    return this.#get(name, 'counter', labelNames, () => {
      const c = new Count(new Counter<L>({ name, help, labelNames: [...labelNames], registers: [this.registry] }));
      if (labelNames.length === 0) c.zero();
      return c;
    });
  }

  gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return this.#get(
      name,
      'gauge',
      labelNames,
      () => new Gauge<L>({ name, help, labelNames: [...labelNames], registers: [this.registry] }) as unknown as Gauge<string>,
    );
  }

  histogram<L extends string = never>(name: string, help: string, labelNames: readonly L[], buckets: number[]): Histogram<L> {
    return this.#get(
      name,
      'histogram',
      labelNames,
      () => new Histogram<L>({ name, help, labelNames: [...labelNames], buckets, registers: [this.registry] }) as unknown as Histogram<string>,
    );
  }

  /** The process's own metrics (CPU, memory, event loop), once per registry. */
  processMetrics(): void {
    if (this.#defaults) return;
    this.#defaults = true;
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * `fn` runs before every scrape and every synchronous read through `collect()`: for figures a
   * component keeps elsewhere (the outbox's `stats()`). Returns the function that removes it.
   */
  onCollect(fn: () => void): () => void {
    this.#hooks.add(fn);
    return () => this.#hooks.delete(fn);
  }

  /** Brings every hooked figure up to date. */
  collect(): void {
    for (const fn of this.#hooks) fn();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async render(): Promise<string> {
    this.collect();
    // prom-client writes NaN as `Nan` (the event-loop lag of two scrapes in one sampling
    // window); the text format spells it `NaN`.
    return (await this.registry.metrics()).replace(/ Nan$/gm, ' NaN');
  }
}

/**
 * Follows a figure that only grows while its owner lives (a source's frame count) and adds each
 * rise to a counter. A drop below the last reading means the owner restarted its figure (a
 * camera's new ffmpeg process), so the new reading is all new.
 */
export class Follower {
  #last = 0;
  constructor(
    readonly count: Count<string>,
    readonly labels?: Record<string, string>,
  ) {}

  update(raw: number): void {
    const delta = raw >= this.#last ? raw - this.#last : raw;
    this.#last = raw;
    if (delta > 0) this.count.inc(delta, this.labels);
  }
}
