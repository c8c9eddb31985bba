// The JSON record of one result, as `percept run --output jsonl` prints it a line per frame:
// where and when the frame came from, the model, its detections (boxes in source pixels and
// normalised), the tracks it shows, and the stage timings, rounded for reading.

import type { InferenceResult } from '../inference/pool.js';
import type { LoadedModel } from '../pipeline/model.js';

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
