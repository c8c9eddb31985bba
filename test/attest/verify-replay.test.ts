// Messages of an earlier boot sent again after later boots: an identical copy is reported as
// a replay but is no finding (at-least-once resends look the same, and de-duplication by id
// drops it); altered, relabelled into a later boot, or missing from its place, it is a finding.
import test from 'node:test';
import assert from 'node:assert/strict';
import { copy, forgeBody, inserted, recordStream, replaced, verifyLines, without, boot } from '../helpers/chain-stream.js';
import { at as itemAt } from '../helpers/at.js';

const SIZES = [5, 6, 7];

test('an identical message of an earlier boot replayed after later boots is reported, not a finding', async () => {
  const { lines, keys } = await recordStream({ sizes: SIZES, every: 3 });
  const laterStart = itemAt(SIZES, 0) + itemAt(SIZES, 1);
  for (let i = 0; i < laterStart; i++) {
    for (const at of [laterStart + 1, lines.length]) {
      const r = await verifyLines(inserted(lines, at, itemAt(lines, i)), keys);
      const d = itemAt(r.devices, 0);
      assert.equal(r.ok, true, `identical replay of ${i}`);
      assert.deepEqual(
        d.replays.map((x) => [x.id, x.position, x.sameDigest]),
        [[itemAt(lines, i).messageId, at + 1, true]],
        `replay of ${i} at ${at}`,
      );
      assert.equal(d.duplicates.count, 1);
    }
  }
});

test("an altered message replayed under an earlier boot's id is a forgery", async () => {
  const { lines, keys } = await recordStream({ sizes: SIZES, every: 3 });
  const laterStart = itemAt(SIZES, 0) + itemAt(SIZES, 1);
  for (let i = 0; i < laterStart; i++) {
    const r = await verifyLines(inserted(lines, laterStart + 2, forgeBody(itemAt(lines, i))), keys);
    const d = itemAt(r.devices, 0);
    assert.equal(r.ok, false, `altered replay of ${i}`);
    assert.ok(
      d.forgeries.some((f) => f.reason === 'replay' && f.id === itemAt(lines, i).messageId),
      JSON.stringify(d.forgeries),
    );
    // A signed one also carries a signature that no longer verifies; nothing else is affected.
    assert.ok(d.forgeries.every((f) => f.id === itemAt(lines, i).messageId));
    assert.equal(d.unique, lines.length, 'the genuine message keeps its place in the chain');
  }
});

test("an earlier boot's message relabelled into a later boot is a forgery at every slot", async () => {
  const { lines, keys } = await recordStream({ sizes: SIZES, every: 3 });
  const old = itemAt(lines, 2);
  for (let j = itemAt(SIZES, 0) + itemAt(SIZES, 1); j < lines.length; j++) {
    // The old body with the chain fields of slot j, as a replayer without the key must send it.
    const c = copy(old);
    c.properties = {
      ...old.properties,
      ...pick(itemAt(lines, j).properties, ['percept-boot', 'percept-seq', 'percept-prev', 'percept-sig', 'percept-kid', 'percept-att']),
    };
    if (!itemAt(lines, j).properties['percept-sig']) for (const k of ['percept-sig', 'percept-kid', 'percept-att']) delete c.properties[k];
    c.messageId = itemAt(lines, j).messageId;
    const r = await verifyLines(replaced(lines, j, c), keys);
    assert.equal(r.ok, false, `relabelled into ${j}`);
    assert.ok(
      itemAt(r.devices, 0).forgeries.some((f) => f.id === itemAt(lines, j).messageId),
      `reported at ${j}`,
    );
  }
});

test("an earlier boot's message held back and sent after later boots is a reordering", async () => {
  const { lines, keys } = await recordStream({ sizes: SIZES, every: 3 });
  for (let i = 0; i < itemAt(SIZES, 0); i++) {
    const r = await verifyLines(inserted(without(lines, i), lines.length - 1, itemAt(lines, i)), keys);
    const d = itemAt(r.devices, 0);
    assert.equal(r.ok, false);
    assert.deepEqual(
      d.reorderings.map((x) => x.id),
      [itemAt(lines, i).messageId],
    );
    assert.equal(boot(itemAt(lines, i)), itemAt(d.boots, 0).boot, 'the boots are still ordered by their links, not by arrival');
  }
});

function pick(o: Record<string, string>, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.flatMap((k) => (o[k] === undefined ? [] : [[k, o[k]]])));
}
