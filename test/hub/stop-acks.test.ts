// A hub that silently stops acknowledging (the connection stays up, PUBACKs never come): the
// send deadline fires, the watchdog forces a reconnect, everything unacknowledged is resent,
// and once acknowledgements return the outbox drains with nothing lost and nothing reordered.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startTestHub } from '../helpers/emulator.js';
import { startDelivery, waitFor } from '../helpers/delivery.js';
import { account, summary } from '../helpers/ledger.js';

test('stopped acknowledgements: watchdog reconnects, no loss, order kept', { timeout: 90_000 }, async (t) => {
  const hub = await startTestHub();
  const d = startDelivery(hub, { link: { sendTimeoutMs: 2000 } });
  try {
    await waitFor('connected', () => d.link.ready);
    const t0 = Date.now();
    await d.steady(30, 2000);
    hub.hub.setFaults({ stopAcks: true });
    await d.steady(30, 7000);
    const during = d.sender.stats();
    hub.hub.setFaults({ stopAcks: false });
    await d.steady(30, 2000);
    await waitFor('outbox drained', () => d.outbox.stats().depth === 0, 30_000);
    const s = d.sender.stats();
    const a = account(hub.hub.messages(hub.deviceId), d.accepted);
    t.diagnostic(
      summary(a, {
        sent: s.sent,
        acknowledged: s.acknowledged,
        retried: s.retried,
        timeouts: s.timeouts,
        reconnects: d.link.reconnects,
        seconds: (Date.now() - t0) / 1000,
      }),
    );
    assert.ok(during.timeouts >= 1, 'the send deadline fired while acknowledgements were held');
    assert.ok(d.link.reconnects >= 2, `the watchdog reconnected (${d.link.reconnects})`);
    assert.equal(a.lost, 0, `lost: ${a.missing.join(', ')}`);
    assert.equal(a.outOfOrder, 0);
    assert.equal(a.chainBreaks, 0);
    assert.ok(a.duplicated > 0, 'held messages were resent: at least once, not exactly once');
    assert.equal(s.deadLettered, 0, 'a silent hub is not a poison message');
    assert.equal(d.outbox.stats().accepted, a.accepted);
  } finally {
    await d.close();
    await hub.close();
  }
});
