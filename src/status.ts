// The agent's status snapshot: what `getStatus`, the preview page and /metrics report.
// cli.ts assembles it from the pipeline and the hub link and hands a getter to consumers.

import type { PipelineStatus } from './pipeline/pipeline.js';

export type LinkState = 'disabled' | 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface HubStatus {
  state: LinkState;
  host: string;
  deviceId: string;
  moduleId?: string;
  auth: 'sas' | 'x509' | 'edge' | 'tpm';
  transport: 'mqtt' | 'mqttws';
  outbox: { depth: number; bytes: number; oldestAgeMs: number | null; deadLettered: number; dropped: Record<string, number> };
  /** Messages accepted into the outbox, sent, acknowledged by the hub, and resent. */
  accepted: number;
  sent: number;
  acknowledged: number;
  retried: number;
  reconnects: number;
  lastError: string | null;
  /** Messages per second acknowledged, over the last few seconds. */
  sendRate: number;
}

export interface AgentStatus {
  version: string;
  startedAt: string;
  uptimeS: number;
  pipeline: PipelineStatus;
  hub: HubStatus | null;
  telemetry: { intervalMs: number; schema: string } | null;
  config: { version: number | null; error: string | null };
}
