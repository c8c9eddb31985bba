// How results leave `percept run`: one JSON object per frame on stdout (jsonl, the record of
// src/agent/result-json.ts), one per track event (events), or a live summary (redrawn in place
// on a terminal, a line every few seconds otherwise).

import type { InferenceResult } from '../inference/pool.js';
import type { LoadedModel } from '../pipeline/model.js';
import type { PipelineStatus } from '../pipeline/pipeline.js';
import { statusLine } from '../log.js';
import type { PerceptEvent } from '../events/types.js';
import { eventView } from '../events/view.js';
import { resultToJson } from '../agent/result-json.js';

export class JsonlWriter {
  write(r: InferenceResult, model: LoadedModel): void {
    process.stdout.write(JSON.stringify(resultToJson(r, model)) + '\n');
  }
}

/** One track event as a JSON line: the same fields as its percept.event/1 message and getEvents. */
export function writeEvent(e: PerceptEvent): void {
  process.stdout.write(JSON.stringify(eventView(e)) + '\n');
}

/** Live summary: frame rate, latency, what each source sees now. */
export class SummaryWriter {
  readonly #latest = new Map<string, InferenceResult>();
  #timer: NodeJS.Timeout | null = null;
  readonly #tty = process.stdout.isTTY === true;

  constructor(private readonly status: () => PipelineStatus) {}

  write(r: InferenceResult): void {
    this.#latest.set(r.source, r);
  }

  start(): void {
    this.#timer = setInterval(() => this.#draw(), this.#tty ? 500 : 2000);
    this.#timer.unref();
  }

  #line(): string {
    const s = this.status();
    const parts = [`${s.fps.toFixed(1)} fps`, `p50 ${s.latencyMs.p50.toFixed(0)} ms`, `p99 ${s.latencyMs.p99.toFixed(0)} ms`, `frames ${s.frames.inferred}`];
    const dropped = s.sources.reduce((a, x) => a + x.dropped, 0);
    if (dropped) parts.push(`dropped ${dropped}`);
    if (s.frames.failed) parts.push(`failed ${s.frames.failed}`);
    if (s.frames.skipped) parts.push(`skipped ${s.frames.skipped} (no motion)`);
    const seen = [...this.#latest.values()].map((r) => {
      const counts = new Map<string, number>();
      for (const d of r.detections) counts.set(d.label, (counts.get(d.label) ?? 0) + 1);
      const what = [...counts].map(([l, n]) => `${n} ${l}`).join(', ') || 'nothing';
      return `${r.source}: ${what}`;
    });
    return `${parts.join(' | ')} | ${seen.join(' ; ')}`;
  }

  #draw(): void {
    const line = this.#line();
    if (this.#tty) statusLine.show(line.slice(0, (process.stdout.columns || 120) - 1));
    else process.stdout.write(line + '\n');
  }

  stop(): void {
    if (!this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = null;
    this.#draw();
    statusLine.end();
  }
}
