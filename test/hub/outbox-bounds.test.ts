// The outbox stays within its byte bound and time-to-live: drop-oldest keeps the newest,
// refuse-new keeps the oldest and gives the refused no sequence number (no chain gap), expired
// rows leave; every drop is counted by reason and reaches /metrics. Group commit keeps order.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Outbox } from '../../src/hub/outbox.js';
import { ChainWriter } from '../../src/telemetry/chain-writer.js';
import { PerceptError } from '../../src/errors.js';
import { Metrics } from '../../src/metrics.js';
import { watchOutbox } from '../../src/hub/metrics.js';
import { message } from '../helpers/delivery.js';
import { tempDir } from '../helpers/paths.js';
import { at } from '../helpers/at.js';

const file = () => path.join(tempDir('percept-bounds-'), 'outbox.db');
const BOUND = 100_000;

function chainOk(rows: Array<{ seq: number; prev: string; digest: string }>): boolean {
  return rows.every((r, i) => i === 0 || (r.seq === at(rows, i - 1).seq + 1 && r.prev === at(rows, i - 1).digest));
}

test('drop-oldest: the bound holds, the newest stay, drops are counted as outbox_full', async (t) => {
  const o = new Outbox(file(), { maxBytes: BOUND, whenFull: 'drop-oldest' });
  const w = new ChainWriter(o);
  for (let i = 0; i < 200; i++) await w.write([message(i)]);
  const s = o.stats();
  const rows = o.peek(0, 1000);
  t.diagnostic(JSON.stringify({ accepted: s.accepted, depth: s.depth, bytes: s.bytes, dropped: s.dropped }));
  assert.equal(s.accepted, 200);
  assert.ok(s.bytes <= BOUND, `bytes ${s.bytes} within ${BOUND}`);
  assert.ok(s.depth > 20 && s.depth < 60, `depth ${s.depth}`);
  assert.equal(s.dropped.outbox_full, 200 - s.depth, 'every drop counted');
  assert.equal(rows.length, s.depth);
  assert.equal(rows.at(-1)!.seq, 200, 'the newest is kept');
  assert.equal(at(rows, 0).seq, 200 - s.depth + 1, 'the oldest went first');
  assert.ok(chainOk(rows));
  o.close();
});

test('refuse-new: new messages are refused with ERR_OUTBOX_FULL, the chain has no gap, room brings acceptance back', async (t) => {
  const o = new Outbox(file(), { maxBytes: BOUND, whenFull: 'refuse-new' });
  const w = new ChainWriter(o);
  let refused = 0;
  for (let i = 0; i < 200; i++) {
    try {
      await w.write([message(i)]);
    } catch (e) {
      assert.ok(PerceptError.is(e, 'ERR_OUTBOX_FULL'), String(e));
      refused++;
    }
  }
  const s = o.stats();
  t.diagnostic(JSON.stringify({ accepted: s.accepted, refused, depth: s.depth, dropped: s.dropped }));
  assert.equal(s.accepted + refused, 200);
  assert.equal(s.dropped.outbox_full, refused);
  assert.ok(s.bytes <= BOUND);
  const rows = o.peek(0, 1000);
  assert.equal(at(rows, 0).seq, 1, 'the oldest are kept');
  assert.equal(rows.at(-1)!.seq, s.accepted, 'refused messages got no sequence number');
  // Acknowledge half: new messages are accepted again and continue the chain.
  assert.ok(o.ack(rows.slice(0, 20).map((r) => r.id)));
  const next = at(await w.write([message(999)]), 0);
  assert.equal(next.seq, s.accepted + 1);
  assert.equal(next.prev, rows.at(-1)!.digest);
  o.close();
});

test('time-to-live: old rows are dropped and counted as expired', async (t) => {
  const o = new Outbox(file(), { ttlSeconds: 1 });
  const w = new ChainWriter(o);
  for (let i = 0; i < 10; i++) await w.write([message(i)]);
  assert.equal(o.expire(), 0, 'nothing is old yet');
  await new Promise((r) => setTimeout(r, 1100));
  await w.write([message(10)]);
  const n = o.expire();
  const s = o.stats();
  t.diagnostic(JSON.stringify({ expired: n, depth: s.depth, dropped: s.dropped }));
  assert.equal(n, 10);
  assert.equal(s.dropped.expired, 10);
  assert.equal(s.depth, 1, 'the fresh one stays');
  o.close();
});

test('group commit: concurrent enqueues commit together and keep their order and chain', async () => {
  const o = new Outbox(file());
  const w = new ChainWriter(o);
  const results = await Promise.all(Array.from({ length: 500 }, (_, i) => w.write([message(i, 256)])));
  const seqs = results.map((r) => at(r, 0).seq);
  assert.deepEqual(
    seqs,
    Array.from({ length: 500 }, (_, i) => i + 1),
  );
  assert.ok(chainOk(o.peek(0, 1000)));
  o.close();
});

test('drops by reason reach /metrics as percept_messages_dropped_total{reason}', async () => {
  const o = new Outbox(file(), { maxBytes: BOUND });
  const w = new ChainWriter(o);
  for (let i = 0; i < 100; i++) await w.write([message(i)]);
  const s = o.stats();
  const m = new Metrics();
  watchOutbox(m, o);
  const text = await m.render();
  const line = text.split('\n').find((l) => l.startsWith('percept_messages_dropped_total{reason="outbox_full"}'));
  assert.ok(line, text);
  assert.equal(Number(line.split(' ').at(-1)), s.dropped.outbox_full);
  assert.ok(s.dropped.outbox_full > 0);
  o.close();
});
