// What was accepted and not acknowledged survives a restart: messages queued while offline,
// and messages the hub received but never acknowledged, are sent by the next boot first, in
// order; the new boot's chain starts from the previous boot's last digest.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startTestHub } from '../helpers/emulator.js';
import { startDelivery, waitFor } from '../helpers/delivery.js';
import { account, digestOf, summary } from '../helpers/ledger.js';

test('unacknowledged messages are sent after a restart, first, and the chain continues', { timeout: 60_000 }, async (t) => {
  const hub = await startTestHub();
  // Boot 1: the hub takes the messages but never acknowledges them.
  hub.hub.setFaults({ stopAcks: true });
  const d1 = startDelivery(hub, { link: { sendTimeoutMs: 60_000 } });
  await waitFor('connected', () => d1.link.ready);
  await d1.steady(50, 1000);
  // What the client wrote reaches the hub's store a little later: wait for the state the
  // test asserts (the hub holding unacknowledged messages), not for the client's count.
  await waitFor('the hub received', () => hub.hub.messages(hub.deviceId).length >= 16);
  const boot1 = d1.writer.boot;
  const head1 = d1.writer.head;
  await d1.close();
  const heardBefore = hub.hub.messages(hub.deviceId).length;
  hub.hub.setFaults({ stopAcks: false });
  // Boot 2, offline for a while: more messages queue behind the old ones.
  const d2 = startDelivery(hub, { file: d1.file, connect: false });
  try {
    assert.equal(d2.outbox.stats().depth, head1.seq, 'every message of boot 1 is still in the outbox');
    await d2.steady(50, 500);
    void d2.link.open();
    await waitFor('outbox drained', () => d2.outbox.stats().depth === 0, 30_000);
    const received = hub.hub.messages(hub.deviceId);
    const accepted = new Map([...d1.accepted, ...d2.accepted]);
    const a = account(received, accepted);
    const s = d2.sender.stats();
    t.diagnostic(summary(a, { boot1Accepted: head1.seq, heardBeforeRestart: heardBefore, sentAfterRestart: s.sent, acknowledgedAfterRestart: s.acknowledged }));
    assert.ok(heardBefore >= 16, 'the hub had received (unacknowledged) messages of boot 1');
    assert.equal(a.lost, 0, `lost: ${a.missing.join(', ')}`);
    assert.equal(a.outOfOrder, 0);
    assert.equal(a.chainBreaks, 0);
    // After the restart, boot 1's rows went out before any of boot 2's.
    const after = received.slice(heardBefore);
    const firstOf2 = after.findIndex((m) => m.properties['percept-boot'] === d2.writer.boot);
    assert.ok(firstOf2 > 0 && after.slice(firstOf2).every((m) => m.properties['percept-boot'] === d2.writer.boot));
    // The chain crosses the restart: boot 2's first message points at boot 1's last.
    const last1 = received.find((m) => m.messageId === `${boot1}:${head1.seq}`)!;
    const first2 = received.find((m) => m.messageId === `${d2.writer.boot}:1`)!;
    assert.equal(digestOf(last1), head1.digest);
    assert.equal(first2.properties['percept-prev'], head1.digest);
  } finally {
    await d2.close();
    await hub.close();
  }
});
