// How results leave `percept run`: one JSON object per frame on stdout (jsonl), one per track
// event (events), or a live summary (redrawn in place on a terminal, a line every few seconds
// otherwise).

import type { InferenceResult } from '../inference/pool.js';
import type { LoadedModel } from '../pipeline/model.js';
import type { PipelineStatus } from '../pipeline/pipeline.js';
import { statusLine } from '../log.js';
import type { PerceptEvent } from '../events/types.js';

const r1 = (v: number) => Math.round(v * 10) / 10;
const r4 = (v: number) => Math.round(v * 1e4) / 1e4;

export function resultToJson(r: InferenceResult, model: LoadedModel): Record<string, unknown> {
  return {
    seq: r.seq,
    source: r.origin ?? r.source,
    sourceId: r.source,
    capturedAt: new Date(r.capturedAt).toISOString(),
    width: r.width,
    height: r.height,
    model: model.manifest.name,
    detections: r.detections.map((d) => ({
      label: d.label,
      confidence: r4(d.confidence),
      box: d.box.map(Math.round),
      boxNorm: d.boxNorm.map(r4),
      ...(d.keypoints ? { keypoints: d.keypoints.map(([x, y]) => [r1(x), r1(y)]) } : {}),
    })),
    ...(r.tracks ? { tracks: r.tracks.map((t) => ({ ...t, score: r4(t.score), box: t.box.map(r4) })) } : {}),
    timings: {
      queueMs: r1(r.timings.queueMs),
      preprocessMs: r1(r.timings.preprocessMs),
      inferenceMs: r1(r.timings.inferenceMs),
      decodeMs: r1(r.timings.decodeMs),
      totalMs: r1(r.timings.totalMs),
    },
  };
}

export class JsonlWriter {
  write(r: InferenceResult, model: LoadedModel): void {
    process.stdout.write(JSON.stringify(resultToJson(r, model)) + '\n');
  }
}

/** One track event as a JSON line, times as ISO strings like the frames' `capturedAt`. */
export function eventToJson(e: PerceptEvent): Record<string, unknown> {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    ...e,
    at: iso(e.at),
    startedAt: iso(e.startedAt),
    endedAt: iso(e.endedAt),
    topScore: r4(e.topScore),
    medianScore: r4(e.medianScore),
    box: e.box.map(r4),
    snapshot: e.snapshot && { ...e.snapshot, at: iso(e.snapshot.at), score: r4(e.snapshot.score), box: e.snapshot.box.map(r4) },
  };
}

export function writeEvent(e: PerceptEvent): void {
  process.stdout.write(JSON.stringify(eventToJson(e)) + '\n');
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
