// /metrics: a private prom-client Registry (several servers can live in one process). Stage
// latencies are observed per result; counters come from the cumulative status numbers, made
// monotonic across pipeline replacements and link restarts that reset those numbers.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { InferenceResult } from '../inference/pool.js';
import type { PipelineStatus } from '../pipeline/pipeline.js';
import type { AgentStatus } from '../status.js';
import { scrub } from '../log.js';

const STAGES = ['capture', 'queue', 'preprocess', 'inference', 'decode', 'publish'] as const;
export type Stage = (typeof STAGES)[number];

/**
 * Turns numbers that can restart from zero into totals that never decrease: a drop below the
 * last reading is a reset, and the last reading moves into the offset.
 */
class Totals {
  readonly #last = new Map<string, number>();
  readonly #offset = new Map<string, number>();

  value(key: string, raw: number): number {
    const last = this.#last.get(key) ?? 0;
    if (raw < last) this.#offset.set(key, (this.#offset.get(key) ?? 0) + last);
    this.#last.set(key, raw);
    return (this.#offset.get(key) ?? 0) + raw;
  }

  /** The source of `key` is being replaced: keep its final count, expect the next one from 0. */
  fold(key: string, raw: number): void {
    this.value(key, raw);
    this.#offset.set(key, (this.#offset.get(key) ?? 0) + (this.#last.get(key) ?? 0));
    this.#last.set(key, 0);
  }
}

type Labels = Record<string, string>;

/** A prom-client counter fed with absolute totals (it only knows `inc`). */
class TotalCounter {
  readonly #counter: Counter<string>;
  readonly #exported = new Map<string, number>();

  constructor(reg: Registry, name: string, help: string, labelNames: string[] = []) {
    this.#counter = new Counter({ name, help, labelNames, registers: [reg] });
  }

  set(total: number, labels: Labels = {}): void {
    const key = JSON.stringify(labels);
    const delta = total - (this.#exported.get(key) ?? 0);
    if (delta > 0) {
      this.#counter.inc(labels, delta);
      this.#exported.set(key, total);
    } else if (!this.#exported.has(key)) {
      this.#counter.inc(labels, 0);
      this.#exported.set(key, 0);
    }
  }
}

function pipelineRaw(p: PipelineStatus): Record<string, number> {
  let captured = 0;
  let dropped = 0;
  let corrupt = 0;
  for (const s of p.sources) {
    captured += s.captured;
    dropped += s.dropped;
    corrupt += s.corrupt;
  }
  return {
    captured,
    latest_frame_wins: dropped,
    corrupt,
    // frames.failed counts corrupt frames too; they have their own reason.
    failed: Math.max(0, p.frames.failed - p.frames.corrupt),
    inferred: p.frames.inferred,
    restarts: p.models.reduce((a, m) => a + m.restarts, 0),
  };
}

export class PreviewMetrics {
  readonly registry = new Registry();
  readonly #stage: Histogram<'stage'>;
  readonly #pipelineTotals = new Totals();
  readonly #hubTotals = new Totals();
  readonly #captured: TotalCounter;
  readonly #dropped: TotalCounter;
  readonly #inferred: TotalCounter;
  readonly #restarts: TotalCounter;
  readonly #sent: TotalCounter;
  readonly #acked: TotalCounter;
  readonly #retried: TotalCounter;
  readonly #msgDropped: TotalCounter;
  readonly #outboxDepth: Gauge;
  readonly #outboxAge: Gauge;
  readonly #hubConnected: Gauge;
  readonly #fps: Gauge;
  readonly #clients: Gauge;
  readonly #modelInfo: Gauge<'model' | 'version' | 'provider' | 'sha256'>;
  readonly #modelUpdates: TotalCounter;

  constructor() {
    const reg = this.registry;
    collectDefaultMetrics({ register: reg });
    this.#stage = new Histogram({
      name: 'percept_stage_seconds',
      help: 'Time per frame in each stage: capture (captured to queued), queue, preprocess, inference, decode; publish (hand-over to the hub link)',
      labelNames: ['stage'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [reg],
    });
    for (const s of STAGES) this.#stage.zero({ stage: s });
    this.#captured = new TotalCounter(reg, 'percept_frames_captured_total', 'Frames read from all sources');
    this.#dropped = new TotalCounter(reg, 'percept_frames_dropped_total', 'Frames not inferred, by reason: latest_frame_wins (a live source had a newer frame), corrupt, failed', ['reason']);
    this.#inferred = new TotalCounter(reg, 'percept_frames_inferred_total', 'Frames with a detection result');
    this.#restarts = new TotalCounter(reg, 'percept_worker_restarts_total', 'Inference workers replaced after a crash');
    this.#sent = new TotalCounter(reg, 'percept_messages_sent_total', 'Telemetry messages sent to the hub (first sends and resends)');
    this.#acked = new TotalCounter(reg, 'percept_messages_acknowledged_total', 'Telemetry messages acknowledged by the hub');
    this.#retried = new TotalCounter(reg, 'percept_messages_retried_total', 'Telemetry messages sent again');
    this.#msgDropped = new TotalCounter(reg, 'percept_messages_dropped_total', 'Telemetry messages given up, by reason (dead_letter: too large for the hub)', ['reason']);
    this.#outboxDepth = new Gauge({ name: 'percept_outbox_depth', help: 'Messages waiting in the durable outbox', registers: [reg] });
    this.#outboxAge = new Gauge({ name: 'percept_outbox_oldest_age_seconds', help: 'Age of the oldest message in the outbox (0 when empty)', registers: [reg] });
    this.#hubConnected = new Gauge({ name: 'percept_hub_connected', help: '1 while the hub link is connected', registers: [reg] });
    this.#fps = new Gauge({ name: 'percept_inference_fps', help: 'Results per second over the last seconds', registers: [reg] });
    this.#clients = new Gauge({ name: 'percept_preview_clients', help: 'Open preview streams', registers: [reg] });
    this.#modelUpdates = new TotalCounter(reg, 'percept_model_updates_total', 'Over-the-air model updates finished, by result: active, failed, rolledBack', ['result']);
    this.#modelInfo = new Gauge({ name: 'percept_model_info', help: 'The model in use: name, version, execution provider, SHA-256 of the ONNX file', labelNames: ['model', 'version', 'provider', 'sha256'], registers: [reg] });
  }

  onResult(r: InferenceResult, now = Date.now()): void {
    const t = r.timings;
    // capturedAt is wall time; totalMs runs from the pool queue entry, so the rest is capture
    // hand-off (waiting in the source's slot until the pool had room). The two clocks differ
    // by up to a millisecond, hence the clamp.
    this.#stage.observe({ stage: 'capture' }, Math.max(0, now - r.capturedAt - t.totalMs) / 1000);
    this.#stage.observe({ stage: 'queue' }, t.queueMs / 1000);
    this.#stage.observe({ stage: 'preprocess' }, t.preprocessMs / 1000);
    this.#stage.observe({ stage: 'inference' }, t.inferenceMs / 1000);
    this.#stage.observe({ stage: 'decode' }, t.decodeMs / 1000);
  }

  observePublish(seconds: number): void {
    if (Number.isFinite(seconds) && seconds >= 0) this.#stage.observe({ stage: 'publish' }, seconds);
  }

  /** The pipeline is being replaced: its final counts stay in the totals. */
  foldPipeline(p: PipelineStatus): void {
    for (const [k, v] of Object.entries(pipelineRaw(p))) this.#pipelineTotals.fold(k, v);
  }

  /** Brings every status-derived metric up to date; called once per scrape. */
  update(agent: AgentStatus, pipeline: PipelineStatus, clients: number): void {
    const raw = pipelineRaw(pipeline);
    const total = (k: string) => this.#pipelineTotals.value(k, raw[k]);
    this.#captured.set(total('captured'));
    for (const reason of ['latest_frame_wins', 'corrupt', 'failed']) this.#dropped.set(total(reason), { reason });
    this.#inferred.set(total('inferred'));
    this.#restarts.set(total('restarts'));
    this.#fps.set(pipeline.fps);
    this.#clients.set(clients);

    this.#modelInfo.reset();
    for (const m of pipeline.models) {
      this.#modelInfo.set({ model: scrub(m.name), version: scrub(m.version), provider: m.provider ?? 'none', sha256: m.sha256 }, 1);
    }

    if (agent.modelUpdates) for (const result of ['active', 'failed', 'rolledBack']) this.#modelUpdates.set(agent.modelUpdates[result] ?? 0, { result });

    const h = agent.hub;
    if (!h) return;
    const ht = (k: string, v: number) => this.#hubTotals.value(k, v);
    this.#sent.set(ht('sent', h.sent));
    this.#acked.set(ht('acknowledged', h.acknowledged));
    this.#retried.set(ht('retried', h.retried));
    this.#msgDropped.set(ht('dead_letter', h.outbox.deadLettered), { reason: 'dead_letter' });
    for (const [reason, n] of Object.entries(h.outbox.dropped)) {
      const safe = reason.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40);
      this.#msgDropped.set(ht(`dropped:${safe}`, n), { reason: safe });
    }
    this.#outboxDepth.set(h.outbox.depth);
    this.#outboxAge.set((h.outbox.oldestAgeMs ?? 0) / 1000);
    this.#hubConnected.set(h.state === 'connected' ? 1 : 0);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  close(): void {
    this.registry.clear();
  }
}
