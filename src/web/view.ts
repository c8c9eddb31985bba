// What the page is told about the agent: a whitelist of status fields, every string passed
// through scrub(). Status objects should never carry secrets; this is the second fence.

import { scrub } from '../log.js';
import type { AgentStatus } from '../status.js';

/** Deep copy with every string scrubbed. */
export function scrubDeep<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return scrub(value) as T;
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v: unknown) => scrubDeep(v, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubDeep(v, depth + 1);
  return out as T;
}

export function statusView(s: AgentStatus) {
  const p = s.pipeline;
  const h = s.hub;
  return scrubDeep({
    version: s.version,
    uptimeS: s.uptimeS,
    pipeline: {
      running: p.running,
      fps: p.fps,
      latencyMs: p.latencyMs,
      stagesMs: p.stagesMs,
      frames: p.frames,
      sources: p.sources.map((x) => ({
        id: x.id,
        kind: x.kind,
        live: x.live,
        open: x.open,
        captured: x.captured,
        dropped: x.dropped,
        corrupt: x.corrupt,
        inferred: x.inferred,
        failed: x.failed,
        skipped: x.skipped,
        motion: x.motion,
      })),
      models: p.models.map((m) => ({
        name: m.name,
        version: m.version,
        sha256: m.sha256.slice(0, 12),
        provider: m.provider,
        fallbacks: m.fallbacks,
        workers: m.workers,
        restarts: m.restarts,
      })),
    },
    hub: h && {
      state: h.state,
      host: h.host,
      deviceId: h.deviceId,
      moduleId: h.moduleId ?? null,
      auth: h.auth,
      outbox: { depth: h.outbox.depth, oldestAgeMs: h.outbox.oldestAgeMs, deadLettered: h.outbox.deadLettered },
      sent: h.sent,
      acknowledged: h.acknowledged,
      retried: h.retried,
      sendRate: h.sendRate,
      lastError: h.lastError,
    },
    events: { zones: s.events?.zones ?? [], lines: s.events?.lines ?? [] },
    config: { version: s.config.version, error: s.config.error },
  });
}

export type StatusView = ReturnType<typeof statusView>;
