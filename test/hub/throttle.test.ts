// IoT Hub throttles MQTT devices by answering late: slow acknowledgements shrink the window of
// messages in flight (down to one) instead of failing sends or reconnecting, and quick ones
// grow it back. Nothing is resent, lost or reordered.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startTestHub } from '../helpers/emulator.js';
import { startDelivery, waitFor } from '../helpers/delivery.js';
import { account, summary } from '../helpers/ledger.js';

test('slow acknowledgements slow the sender down instead of failing it', { timeout: 90_000 }, async (t) => {
  const hub = await startTestHub();
  const d = startDelivery(hub, { sender: { window: 16, slowAckMs: 500 }, link: { sendTimeoutMs: 10_000 } });
  try {
    await waitFor('connected', () => d.link.ready);
    const t0 = Date.now();
    await d.steady(30, 2000);
    assert.equal(d.sender.stats().window, 16, 'full window while acknowledgements are quick');
    hub.hub.setFaults({ delayMs: 1500 });
    await d.steady(30, 8000);
    const throttled = d.sender.stats();
    hub.hub.setFaults({ delayMs: 0 });
    await d.steady(30, 4000);
    await waitFor('outbox drained', () => d.outbox.stats().depth === 0, 30_000);
    const s = d.sender.stats();
    const a = account(hub.hub.messages(hub.deviceId), d.accepted);
    t.diagnostic(
      summary(a, {
        sent: s.sent,
        acknowledged: s.acknowledged,
        retried: s.retried,
        failed: s.failed,
        throttled: s.throttled,
        windowWhileThrottled: throttled.window,
        windowAfter: s.window,
        reconnects: d.link.reconnects,
        seconds: (Date.now() - t0) / 1000,
      }),
    );
    assert.ok(throttled.throttled > 0, 'slow acknowledgements were seen');
    assert.ok(throttled.window <= 2, `the window shrank (${throttled.window})`);
    assert.ok(s.window >= 8, `and grew back (${s.window})`);
    assert.equal(s.failed, 0, 'no send failed');
    assert.equal(s.timeouts, 0);
    assert.equal(d.link.reconnects, 0, 'no reconnect');
    assert.equal(s.retried, 0, 'nothing resent');
    assert.equal(a.lost, 0);
    assert.equal(a.duplicated, 0);
    assert.equal(a.outOfOrder, 0);
  } finally {
    await d.close();
    await hub.close();
  }
});
