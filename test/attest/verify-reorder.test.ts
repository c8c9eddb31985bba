// Two messages swapped anywhere, across boots too, are reported as a reordering (a finding:
// the outbox sends in order over one connection), while the chain itself still verifies;
// resends after a reconnect arrive late but are duplicates, never reorderings.
import test from 'node:test';
import assert from 'node:assert/strict';
import { recordStream, swapped, verifyLines, inserted } from '../helpers/chain-stream.js';
import { at } from '../helpers/at.js';

test('two swapped messages are detected at every position', async () => {
  const { lines, keys } = await recordStream({ sizes: [6, 7, 8], every: 3 });
  for (let k = 0; k < lines.length - 1; k++) {
    const r = await verifyLines(swapped(lines, k), keys);
    const d = at(r.devices, 0);
    assert.equal(r.ok, false, `swap at ${k} went unnoticed`);
    assert.deepEqual(
      d.reorderings.map((x) => [x.id, x.after]),
      [[at(lines, k).messageId, at(lines, k + 1).messageId]],
      `swap at ${k}`,
    );
    assert.deepEqual([d.gaps, d.forgeries, d.unverified], [[], [], []], 'the chain itself still verifies');
    assert.equal(d.findings, 1);
    const allowed = await verifyLines(swapped(lines, k), keys, { allowReorder: true });
    assert.equal(allowed.ok, true, '--allow-reorder lists it without counting it');
    assert.equal(at(allowed.devices, 0).reorderings.length, 1);
  }
});

test('a message held back past several others is one reordering', async () => {
  const { lines, keys } = await recordStream({ sizes: [12], every: 4 });
  const late = [...lines.slice(0, 3), ...lines.slice(4, 9), at(lines, 3), ...lines.slice(9)];
  const r = await verifyLines(late, keys);
  assert.deepEqual(
    at(r.devices, 0).reorderings.map((x) => [x.id, x.after]),
    [[at(lines, 3).messageId, at(lines, 8).messageId]],
  );
});

test('resends after a reconnect are duplicates, not reorderings', async () => {
  const { lines, keys } = await recordStream({ sizes: [6, 10], every: 3 });
  // 16 in flight, the connection drops, everything unacknowledged is sent again in order.
  let stream = inserted(lines, 12, at(lines, 4));
  stream = [...stream.slice(0, 14), ...lines.slice(5, 12), ...stream.slice(14)];
  const r = await verifyLines(stream, keys);
  const d = at(r.devices, 0);
  assert.equal(r.ok, true, JSON.stringify(d));
  assert.equal(d.duplicates.count, 8);
  assert.deepEqual(d.reorderings, []);
  assert.equal(d.unique, lines.length);
});
