// The status snapshot's assembly: what `getStatus`, the preview page and /metrics report, read
// from each component's stats at the moment of asking. The snapshot's types are the shared
// contract in src/status.ts.

import type { Pipeline, PipelineStatus } from '../pipeline/pipeline.js';
import type { HubLink } from '../hub/link.js';
import type { Outbox } from '../hub/outbox.js';
import type { Sender } from '../hub/sender.js';
import type { AgentStatus, HubStatus } from '../status.js';

import { VERSION } from '../version.js';

export interface HubParts {
  link: HubLink;
  outbox: Outbox;
  sender: Sender;
  transport: HubStatus['transport'];
}

export interface StatusParts {
  startedAt: number;
  pipeline: Pipeline | null;
  hub: HubParts | null;
  telemetry: AgentStatus['telemetry'];
  /** Zone and line counts of every source (empty when the pipeline keeps none). */
  events?: AgentStatus['events'];
  config: AgentStatus['config'];
  /** Over-the-air model updates finished, by result. */
  modelUpdates?: AgentStatus['modelUpdates'];
}

const EMPTY_PIPELINE: PipelineStatus = {
  running: false,
  sources: [],
  models: [],
  frames: { inferred: 0, failed: 0, corrupt: 0, skipped: 0 },
  fps: 0,
  latencyMs: { p50: 0, p99: 0, mean: 0 },
  stagesMs: { queue: 0, preprocess: 0, inference: 0, decode: 0 },
  lastResultAt: null,
  lastSkippedAt: null,
  zones: [],
  lines: [],
};

export function hubStatus({ link, outbox, sender, transport }: HubParts): HubStatus {
  const o = outbox.stats();
  const s = sender.stats();
  const l = link.stats();
  return {
    state: link.state,
    host: link.host,
    deviceId: link.deviceId,
    moduleId: link.moduleId,
    auth: link.auth,
    transport,
    outbox: { depth: o.depth, bytes: o.bytes, oldestAgeMs: o.oldestAgeMs, deadLettered: o.deadLettered, dropped: o.dropped },
    accepted: o.accepted,
    sent: s.sent,
    acknowledged: s.acknowledged,
    retried: s.retried,
    reconnects: link.reconnects,
    lastError: link.lastError,
    sendRate: s.sendRate,
    failed: s.failed,
    timeouts: s.timeouts,
    throttled: s.throttled,
    window: s.window,
    inFlight: s.inFlight,
    tokenRenewals: l.tokenRenewals,
    routineDisconnects: l.routineDisconnects,
    lastFailure: l.lastFailure,
  };
}

export function agentStatus(p: StatusParts): AgentStatus {
  return {
    version: VERSION,
    startedAt: new Date(p.startedAt).toISOString(),
    uptimeS: Math.round((Date.now() - p.startedAt) / 1000),
    pipeline: p.pipeline?.status() ?? EMPTY_PIPELINE,
    hub: p.hub ? hubStatus(p.hub) : null,
    telemetry: p.telemetry,
    events: p.events ?? { zones: [], lines: [] },
    config: p.config,
    ...(p.modelUpdates ? { modelUpdates: p.modelUpdates } : {}),
  };
}
