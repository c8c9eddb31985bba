// The verifier's own chain digest (one per message, built for speed) against the agent's
// messageDigest, which defines the chain: equal for every property set, in any order, as
// the set changes from message to message and back.
import test from 'node:test';
import assert from 'node:assert/strict';
import { chainDigest } from '../../src/attest/verify.js';
import { GENESIS, messageDigest } from '../../src/telemetry/chain.js';

test('chainDigest is messageDigest for every property set, in any order and as it changes', () => {
  const body = Buffer.from('{"schema":"percept.detections/1","counts":{"dog":1}}');
  const sets: Record<string, string>[] = [
    {},
    { schema: 'percept.detections/1', eventType: 'detections', source: 'door', 'percept-boot': 'b1', 'percept-seq': '1', 'percept-prev': GENESIS },
    { 'percept-prev': GENESIS, source: 'door', 'percept-seq': '1', schema: 'percept.detections/1', 'percept-boot': 'b1', eventType: 'detections' },
    { schema: 's', 'percept-sig': 'MEUCIQ==', 'percept-kid': 'k1', 'percept-att': 'software' },
    { 'percept-att': 'tpm', schema: 's' },
    { '10': 'ten', '9': 'nine', b: 'x', a: 'y', é: 'accent', Z: 'upper', '': 'empty' },
    { note: 'quote " backslash \\ newline \n tab \t nul \u0000 emoji 😀 lone \ud800' },
    { schema: 'percept.detections/1', eventType: 'detections', source: 'door', 'percept-boot': 'b1', 'percept-seq': '1', 'percept-prev': GENESIS },
  ];
  // Each set twice in a row (the second reuses the sorted names), then the sets interleaved.
  const order = [...sets.flatMap((p) => [p, p]), ...sets.slice().reverse()];
  for (const [i, p] of order.entries()) {
    const fields = { boot: 'b"1\\', seq: i + 1, prev: GENESIS };
    assert.equal(chainDigest(fields.boot, fields.seq, fields.prev, body, p), messageDigest(fields, body, p), `property set ${JSON.stringify(p)}`);
  }
  // The names alone changing, with the same count, is a new set.
  assert.equal(chainDigest('b', 1, GENESIS, body, { a: '1', b: '2' }), messageDigest({ boot: 'b', seq: 1, prev: GENESIS }, body, { a: '1', b: '2' }));
  assert.equal(chainDigest('b', 1, GENESIS, body, { a: '1', c: '2' }), messageDigest({ boot: 'b', seq: 1, prev: GENESIS }, body, { a: '1', c: '2' }));
  assert.equal(chainDigest('b', 1, GENESIS, body, { c: '1', a: '2' }), messageDigest({ boot: 'b', seq: 1, prev: GENESIS }, body, { c: '1', a: '2' }));
});
