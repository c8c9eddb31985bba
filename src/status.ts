// The agent's status snapshot: what `getStatus`, the preview page and /metrics report.
// The shared contract; src/agent/status.ts assembles it and hands a getter to consumers.

import type { PipelineStatus } from './pipeline/pipeline.js';
import type { LineCount, ZoneCount } from './events/types.js';

export type LinkState = 'disabled' | 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface HubStatus {
  state: LinkState;
  host: string;
  deviceId: string;
  moduleId?: string;
  auth: 'sas' | 'x509' | 'edge' | 'tpm';
  transport: 'mqtt' | 'mqttws';
  /** `dropped` by reason: outbox_full (byte bound), disk_full (SQLITE_FULL), expired (time-to-live). */
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
  /** Sends that failed; of them, deadline passes that forced a reconnect (the silent-hang watchdog). */
  failed?: number;
  timeouts?: number;
  /** Slow acknowledgements (throttling) and the window of messages in flight they shaped. */
  throttled?: number;
  window?: number;
  inFlight?: number;
  /** Planned reconnects that renewed the SAS token; disconnects by the hub at a token's end or edgeHub's hour. */
  tokenRenewals?: number;
  routineDisconnects?: number;
  /** Kind of the last failed connection attempt, from error codes: network, timeout, busy, auth, tls, rejected, unknown. */
  lastFailure?: string | null;
}

export interface AgentStatus {
  version: string;
  startedAt: string;
  uptimeS: number;
  pipeline: PipelineStatus;
  hub: HubStatus | null;
  /** `mode`: windows, events or both (telemetry.mode). */
  telemetry: { intervalMs: number; schema: string; mode?: string } | null;
  /** Zone entries and exits and line crossings per source since the agent started (empty without zones or lines). */
  events?: { zones: ZoneCount[]; lines: LineCount[] };
  config: { version: number | null; error: string | null };
  /** Finished over-the-air model updates by result (active, failed, rolledBack); absent without a hub. */
  modelUpdates?: Readonly<Record<string, number>>;
}
