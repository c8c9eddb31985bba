// /metrics: renders the agent's metrics registry, where each component counts its own series
// (pipeline, inference pool, hub link, sender, outbox). The preview adds what only it sees:
// stage latencies per result, the frame rate, its open streams and the model in use.

import type { Gauge, Histogram } from 'prom-client';
import type { InferenceResult } from '../inference/pool.js';
import type { PipelineStatus } from '../pipeline/pipeline.js';
import { Metrics } from '../metrics.js';
import { scrub } from '../log.js';

const STAGES = ['capture', 'queue', 'preprocess', 'inference', 'decode', 'publish'] as const;
export type Stage = (typeof STAGES)[number];

export class PreviewMetrics {
  readonly metrics: Metrics;
  readonly #stage: Histogram<'stage'>;
  readonly #fps: Gauge;
  readonly #clients: Gauge;
  readonly #modelInfo: Gauge<'model' | 'version' | 'provider' | 'sha256'>;

  /** `metrics`: the agent's registry; a restarted preview continues its series. */
  constructor(metrics = new Metrics()) {
    const m = (this.metrics = metrics);
    m.processMetrics();
    this.#stage = m.histogram(
      'percept_stage_seconds',
      'Time per frame in each stage: capture (captured to queued), queue, preprocess, inference, decode; publish (hand-over to the hub link)',
      ['stage'],
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    );
    for (const s of STAGES) this.#stage.zero({ stage: s });
    this.#fps = m.gauge('percept_inference_fps', 'Results per second over the last seconds');
    this.#clients = m.gauge('percept_preview_clients', 'Open preview streams');
    this.#modelInfo = m.gauge('percept_model_info', 'The model in use: name, version, execution provider, SHA-256 of the ONNX file', [
      'model',
      'version',
      'provider',
      'sha256',
    ]);
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

  /** The gauges only the preview knows; called once per scrape. Counters are the components' own. */
  update(pipeline: PipelineStatus, clients: number): void {
    this.#fps.set(pipeline.fps);
    this.#clients.set(clients);
    this.#modelInfo.reset();
    for (const m of pipeline.models) {
      this.#modelInfo.set({ model: scrub(m.name), version: scrub(m.version), provider: m.provider ?? 'none', sha256: m.sha256 }, 1);
    }
  }

  get contentType(): string {
    return this.metrics.contentType;
  }

  render(): Promise<string> {
    return this.metrics.render();
  }
}
