// Liveness and readiness as pure decisions over the status snapshot, so an orchestrator
// (IoT Edge, Kubernetes, systemd watchdogs) restarts a stuck agent but not a starting one.

import type { AgentStatus } from '../status.js';

export interface HealthAnswer {
  status: 200 | 503;
  body: Record<string, unknown>;
}

export interface HealthWindow {
  /** A result older than this means the pipeline is stuck. */
  livenessMs: number;
  /** Before the first result, model loading and camera start-up get this long. */
  graceMs: number;
}

/** Default liveness window: 10 s, or five telemetry intervals when those are longer. */
export function defaultLivenessMs(s: AgentStatus | null): number {
  return Math.max(10_000, 5 * (s?.telemetry?.intervalMs ?? 0));
}

/** The last result; with `orSkipped`, also a frame the motion gate judged still (alive, no result due). */
function lastResult(s: AgentStatus, seenAt: number | null, orSkipped = false): number | null {
  const r = s.pipeline.lastResultAt;
  const k = orSkipped ? (s.pipeline.lastSkippedAt ?? null) : null;
  const a = r === null ? k : k === null ? r : Math.max(r, k);
  if (a === null) return seenAt;
  return seenAt === null ? a : Math.max(a, seenAt);
}

/**
 * 200 while results keep coming, or the motion gate keeps judging frames of a still scene (or
 * the agent is still starting), 503 with a reason otherwise.
 */
export function liveness(s: AgentStatus, seenAt: number | null, w: HealthWindow, now = Date.now()): HealthAnswer {
  const last = lastResult(s, seenAt, true);
  const started = Date.parse(s.startedAt);
  if (last === null) {
    const age = Number.isFinite(started) ? now - started : 0;
    if (age < w.graceMs) return { status: 200, body: { status: 'starting', uptimeS: s.uptimeS } };
    return { status: 503, body: { status: 'unhealthy', reason: `no result in the ${Math.round(age / 1000)} s since start` } };
  }
  const age = now - last;
  if (age > w.livenessMs) {
    return {
      status: 503,
      body: { status: 'unhealthy', reason: `no result for ${(age / 1000).toFixed(1)} s (limit ${(w.livenessMs / 1000).toFixed(1)} s)`, lastResultAgeMs: age },
    };
  }
  return { status: 200, body: { status: 'ok', lastResultAgeMs: age, fps: round(s.pipeline.fps) } };
}

/** 200 once a model is loaded on a provider and a source has delivered a result. */
export function readiness(s: AgentStatus, seenAt: number | null): HealthAnswer {
  const models = s.pipeline.models;
  if (models.length === 0 || models.some((m) => !m.provider)) {
    return { status: 503, body: { status: 'not ready', reason: models.length === 0 ? 'no model loaded' : 'a model has no execution provider yet' } };
  }
  if (lastResult(s, seenAt) === null) return { status: 503, body: { status: 'not ready', reason: 'no source has delivered a frame yet' } };
  return { status: 200, body: { status: 'ready', models: models.map((m) => ({ name: m.name, version: m.version, provider: m.provider })) } };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
