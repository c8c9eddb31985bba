// What the verifier must not call a finding: duplicates from at-least-once delivery, the
// unsigned tail after the last checkpoint, several devices interleaved; and what it must:
// a device with no enrolled key, messages without chain fields.
import test from 'node:test';
import assert from 'node:assert/strict';
import { copy, recordStream, verifyLines, boot } from '../helpers/chain-stream.js';
import { at, must } from '../helpers/at.js';

test('every message delivered twice: duplicates, not findings', async () => {
  const { lines, keys } = await recordStream({ sizes: [5, 6], every: 2 });
  const twice = lines.flatMap((l) => [l, l]);
  const r = await verifyLines(twice, keys);
  const d = at(r.devices, 0);
  assert.equal(r.ok, true, JSON.stringify(d));
  assert.equal(d.duplicates.count, lines.length);
  assert.equal(d.unique, lines.length);
  assert.deepEqual(d.verified, [
    { boot: boot(at(lines, 0)), from: 1, to: 5 },
    { boot: boot(at(lines, 5)), from: 1, to: 6 },
  ]);
});

test('a duplicate without its signature is a duplicate; the signed copy still counts', async () => {
  const { lines, keys } = await recordStream({ sizes: [4], every: 4 });
  const bare = copy(at(lines, 3));
  for (const k of ['percept-sig', 'percept-kid', 'percept-att']) delete bare.properties[k];
  const r = await verifyLines([...lines.slice(0, 3), bare, at(lines, 3)], keys);
  assert.equal(r.ok, true);
  assert.deepEqual(at(r.devices, 0).unsignedTail, []);
});

test('the unsigned tail after the last checkpoint is reported, not a finding', async () => {
  const { lines, keys } = await recordStream({ sizes: [4, 6], every: 2, unsignedTail: 3 });
  const r = await verifyLines(lines, keys);
  const d = at(r.devices, 0);
  assert.equal(r.ok, true);
  assert.deepEqual(d.unsignedTail, [{ boot: boot(at(lines, 4)), from: 3, to: 6 }]);
  assert.deepEqual(d.verified.at(-1), { boot: boot(at(lines, 4)), from: 1, to: 2 });
  assert.deepEqual(
    d.boots.map((b) => b.start),
    ['genesis', 'linked'],
  );
});

test('several devices interleaved verify each against its own key', async () => {
  const a = await recordStream({ sizes: [4, 4], every: 2, deviceId: 'dev-a' });
  const b = await recordStream({ sizes: [6], every: 3, deviceId: 'dev-b' });
  const inOrder = interleave(a.lines, b.lines);
  const r = await verifyLines(inOrder, { ...a.keys, ...b.keys });
  assert.equal(r.ok, true, JSON.stringify(r.devices));
  assert.deepEqual(
    r.devices.map((d) => [d.device, d.unique]),
    [
      ['dev-a', 8],
      ['dev-b', 6],
    ],
  );
  // dev-b's messages checked against dev-a's key only: every signature is unknown.
  const wrong = await verifyLines(inOrder, { 'dev-a': must(a.keys['dev-a'], 'dev-a'), 'dev-b': must(a.keys['dev-a'], 'dev-a') });
  assert.equal(wrong.ok, false);
  assert.ok(at(wrong.devices, 1).forgeries.every((f) => f.reason === 'unknown-key'));
});

test('a device without enrolled keys, and messages without chain fields, are findings', async () => {
  const { lines, keys } = await recordStream({ sizes: [3], every: 3 });
  const none = await verifyLines(lines, { other: must(keys['dev-1'], 'dev-1') });
  assert.equal(none.ok, false);
  assert.equal(at(none.devices, 0).unknownDevice, true);
  const plain = copy(at(lines, 1));
  for (const k of Object.keys(plain.properties)) if (k.startsWith('percept-')) delete plain.properties[k];
  const r = await verifyLines([...lines, plain], keys);
  assert.equal(r.ok, false);
  assert.equal(at(r.devices, 0).unchained.count, 1);
});

function interleave<T>(a: T[], b: T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < a.length) out.push(at(a, i));
    if (i < b.length) out.push(at(b, i));
  }
  return out;
}
