// The hub's series in the agent's metrics registry: the link's (connection, reconnects, token
// renewals), the sender's (sent, acknowledged, timeouts, throttling) and the outbox's. Declared
// in one place so /metrics exports them at 0 when no hub is configured.

import type { Metrics } from '../metrics.js';
import type { Outbox } from './outbox.js';

export function hubMetrics(m: Metrics) {
  const dropped = m.counter(
    'percept_messages_dropped_total',
    'Telemetry messages given up, by reason (dead_letter: too large for the hub or refused by it; outbox_full, disk_full, expired)',
    ['reason'],
  );
  dropped.zero({ reason: 'dead_letter' });
  return {
    connected: m.gauge('percept_hub_connected', '1 while the hub link is connected'),
    reconnects: m.counter('percept_hub_reconnects_total', 'Connections to the hub made after the first one, for whatever reason'),
    tokenRenewals: m.counter('percept_hub_token_renewals_total', 'Planned reconnects that renewed the SAS token'),
    routineDisconnects: m.counter(
      'percept_hub_routine_disconnects_total',
      'Disconnects by the hub at the end of a token or after an hour (edgeHub), not errors',
    ),
    sent: m.counter('percept_messages_sent_total', 'Telemetry messages sent to the hub (first sends and resends)'),
    acknowledged: m.counter('percept_messages_acknowledged_total', 'Telemetry messages acknowledged by the hub'),
    retried: m.counter('percept_messages_retried_total', 'Telemetry messages sent again'),
    failed: m.counter('percept_hub_send_failures_total', 'Sends that failed (the message stays in the outbox and is sent again)'),
    timeouts: m.counter('percept_hub_send_timeouts_total', 'Sends not acknowledged within the send deadline; each forced a reconnect'),
    throttled: m.counter('percept_hub_throttled_total', 'Acknowledgements slower than the throttling threshold (the window of messages in flight halves)'),
    dropped,
    outboxDepth: m.gauge('percept_outbox_depth', 'Messages waiting in the durable outbox'),
    outboxBytes: m.gauge('percept_outbox_bytes', 'Bytes of the messages waiting in the durable outbox'),
    outboxAge: m.gauge('percept_outbox_oldest_age_seconds', 'Age of the oldest message in the outbox (0 when empty)'),
  };
}

export type HubMetrics = ReturnType<typeof hubMetrics>;

/**
 * The outbox's figures, read from its `stats()` at each scrape: its gauges, and its drops and
 * dead letters as rises of percept_messages_dropped_total. Returns the function that stops it
 * (after one last reading, so the final figures stay).
 */
export function watchOutbox(m: Metrics, outbox: Outbox): () => void {
  const h = hubMetrics(m);
  const seen = new Map<string, number>();
  const follow = (reason: string, raw: number) => {
    const delta = raw - (seen.get(reason) ?? 0);
    seen.set(reason, raw);
    if (delta > 0) h.dropped.inc(delta, { reason });
    else h.dropped.zero({ reason });
  };
  // The outbox's counts start at 0 in this process and only grow: what is seen is what it counted.
  const collect = () => {
    let s;
    try {
      s = outbox.stats();
    } catch {
      return; // closed: its last figures stay
    }
    h.outboxDepth.set(s.depth);
    h.outboxBytes.set(s.bytes);
    h.outboxAge.set((s.oldestAgeMs ?? 0) / 1000);
    follow('dead_letter', s.deadLettered);
    for (const [reason, n] of Object.entries(s.dropped)) follow(reason.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40), n);
  };
  collect();
  const remove = m.onCollect(collect);
  return () => {
    collect();
    remove();
  };
}
