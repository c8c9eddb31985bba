// A message the hub will not take does not block the queue: one over IoT Hub's size limit is
// dead-lettered before sending; one the hub refuses by closing the connection (as IoT Hub does)
// is sent alone to be sure, then dead-lettered after three closes. Both are counted.
import test from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { startTestHub } from '../helpers/emulator.js';
import { message, startDelivery, waitFor } from '../helpers/delivery.js';
import { account, summary } from '../helpers/ledger.js';
import { at } from '../helpers/at.js';

function deadLetters(file: string): Array<{ message_id: string; reason: string }> {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT message_id, reason FROM dead_letter ORDER BY id').all() as Array<{ message_id: string; reason: string }>;
  } finally {
    db.close();
  }
}

test('a message over the size limit is dead-lettered unsent; the rest flows', { timeout: 60_000 }, async (t) => {
  const hub = await startTestHub();
  const d = startDelivery(hub);
  try {
    await waitFor('connected', () => d.link.ready);
    for (let i = 0; i < 5; i++) await d.put(message(i));
    await d.put(message(5, 300 * 1024));
    for (let i = 6; i < 11; i++) await d.put(message(i));
    await waitFor('outbox drained', () => d.outbox.stats().depth === 0);
    const s = d.sender.stats();
    const dead = deadLetters(d.file);
    const a = account(hub.hub.messages(hub.deviceId), d.accepted, new Set(dead.map((x) => x.message_id)));
    t.diagnostic(summary(a, { sent: s.sent, acknowledged: s.acknowledged, deadLettered: s.deadLettered, reconnects: d.link.reconnects }));
    assert.deepEqual(
      dead.map((x) => x.reason),
      ['too_large'],
    );
    assert.equal(at(dead, 0).message_id.split(':')[1], '6');
    assert.equal(s.deadLettered, 1);
    assert.equal(s.sent, 10, 'the large one was never sent');
    assert.equal(d.link.reconnects, 0, 'the connection never dropped');
    assert.equal(a.lost, 0);
    assert.equal(a.unique, 10);
    assert.equal(d.outbox.stats().deadLettered, 1);
  } finally {
    await d.close();
    await hub.close();
  }
});

test('a message the hub refuses by closing the connection is dead-lettered after three closes', { timeout: 60_000 }, async (t) => {
  const hub = await startTestHub();
  // The limit check is off here, so the hub is the one that refuses: 250 KB body (under the
  // SDK's own body check) and 10 KB of properties pass IoT Hub's 256 KB together.
  const d = startDelivery(hub, { sender: { maxMessageBytes: 1024 * 1024 } });
  try {
    await waitFor('connected', () => d.link.ready);
    for (let i = 0; i < 5; i++) await d.put(message(i));
    await d.put(message(5, 250 * 1024, { pad: 'p'.repeat(10 * 1024) }));
    for (let i = 6; i < 30; i++) await d.put(message(i));
    await waitFor('outbox drained', () => d.outbox.stats().depth === 0, 30_000);
    const s = d.sender.stats();
    const dead = deadLetters(d.file);
    const a = account(hub.hub.messages(hub.deviceId), d.accepted, new Set(dead.map((x) => x.message_id)));
    t.diagnostic(summary(a, { sent: s.sent, acknowledged: s.acknowledged, retried: s.retried, deadLettered: s.deadLettered, reconnects: d.link.reconnects }));
    assert.deepEqual(
      dead.map((x) => x.reason),
      ['refused_by_hub'],
    );
    assert.equal(at(dead, 0).message_id.split(':')[1], '6');
    assert.equal(d.link.reconnects, 3, 'three closes by the hub, then the queue moved on');
    assert.equal(a.lost, 0, `lost: ${a.missing.join(', ')}`);
    assert.equal(a.outOfOrder, 0);
    assert.equal(a.unique, 29, 'everything else arrived');
    assert.ok(hub.hub.messages(hub.deviceId).every((m) => m.properties['percept-seq'] !== '6'));
  } finally {
    await d.close();
    await hub.close();
  }
});
