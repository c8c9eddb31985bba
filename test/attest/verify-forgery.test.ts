// A forger who changes any message, at any position, or signs a checkpoint with any other
// key, is caught: streams come from the real Outbox and signer, and every variant is checked.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { keyIdOf } from '../../src/attest/signer.js';
import { copy, digestOf, forgeBody, recordStream, replaced, resign, verifyLines, boot, seq } from '../helpers/chain-stream.js';
import { at, must } from '../helpers/at.js';

test('a forged body is detected at every position', async () => {
  const { lines, keys } = await recordStream({ sizes: [6, 7, 8], every: 3 });
  assert.equal((await verifyLines(lines, keys)).ok, true, 'the untouched stream verifies');
  for (const [k, l] of lines.entries()) {
    const r = await verifyLines(replaced(lines, k, forgeBody(l)), keys);
    const d = at(r.devices, 0);
    assert.equal(r.ok, false, `forged body at ${k} (${l.messageId}) not detected`);
    assert.ok(
      d.forgeries.some((f) => f.id === l.messageId && (f.reason === 'digest-mismatch' || f.reason === 'bad-signature')),
      `forgery at ${k} reported elsewhere: ${JSON.stringify(d.forgeries)}`,
    );
    assert.ok(
      !d.verified.some((v) => v.boot === boot(l) && v.from <= seq(l) && (v.to ?? Infinity) >= seq(l)),
      `the forged message ${k} is not reported as verified`,
    );
  }
});

test('a forged property or chain field is detected at every position', async () => {
  const { lines, keys } = await recordStream({ sizes: [5, 6], every: 2 });
  const edits: Array<[string, (p: Record<string, string>) => void]> = [
    ['source', (p) => (p.source = 'back-door')],
    ['added property', (p) => (p.extra = '1')],
    ['percept-prev', (p) => (p['percept-prev'] = crypto.randomBytes(32).toString('hex'))],
  ];
  for (const [what, edit] of edits) {
    for (const [k, l] of lines.entries()) {
      const c = copy(l);
      edit(c.properties);
      const r = await verifyLines(replaced(lines, k, c), keys);
      assert.equal(r.ok, false, `${what} changed at ${k} not detected`);
      assert.ok(at(r.devices, 0).forgeries.length > 0, `${what} at ${k}: reported as a forgery`);
    }
  }
});

test('a checkpoint signed by another key is detected, whatever kid it claims', async () => {
  const other = await recordStream({ sizes: [2], deviceId: 'dev-2' });
  const { lines, keys } = await recordStream({ sizes: [5, 6], every: 2 });
  // dev-2's key is enrolled too, but only for dev-2.
  const ring = { ...keys, ...other.keys };
  const attacker = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const attackerKid = keyIdOf(attacker.publicKey.export({ format: 'der', type: 'spki' }));
  const signed = lines.map((l, i) => [l, i] as const).filter(([l]) => l.properties['percept-sig']);
  assert.ok(signed.length >= 6);
  for (const [l, k] of signed) {
    const variants: Array<[string, string]> = [
      [must(l.properties['percept-kid'], 'percept-kid'), 'bad-signature'],
      [attackerKid, 'unknown-key'],
      [other.signer.kid, 'unknown-key'],
    ];
    for (const [kid, reason] of variants) {
      const r = await verifyLines(replaced(lines, k, resign(l, attacker.privateKey, kid)), ring);
      assert.equal(r.ok, false, `checkpoint ${k} re-signed claiming ${kid}`);
      assert.ok(
        r.devices.find((d) => d.device === 'dev-1')!.forgeries.some((f) => f.id === l.messageId && f.reason === reason),
        `${reason} at ${k}`,
      );
    }
  }
  // A forged body with the rest of the chain recomputed and re-signed by the attacker links
  // perfectly, yet no signature after it verifies with the enrolled key.
  for (const k of [0, 4, lines.length - 2]) {
    const forged = [...lines.slice(0, k), forgeBody(at(lines, k))];
    for (const l of lines.slice(k + 1)) {
      const c = copy(l);
      const prevLine = at(forged, -1);
      if (boot(prevLine) === boot(l) || seq(l) === 1) c.properties['percept-prev'] = digestOf(prevLine);
      forged.push(c.properties['percept-sig'] ? resign(c, attacker.privateKey, must(c.properties['percept-kid'], 'percept-kid')) : c);
    }
    const r = await verifyLines(forged, ring);
    const d = r.devices.find((x) => x.device === 'dev-1')!;
    assert.equal(r.ok, false, `re-chained forgery from ${k}`);
    assert.equal(d.gaps.length + d.forgeries.filter((f) => f.reason === 'digest-mismatch').length, 0, 'the links themselves hold');
    assert.ok(d.forgeries.some((f) => f.reason === 'bad-signature'));
    assert.ok(!d.verified.some((v) => v.boot === boot(at(lines, k)) && v.from <= seq(at(lines, k)) && (v.to ?? Infinity) >= seq(at(lines, k))));
  }
});

test('a signature whose percept-att claims a TPM for a software key is a finding', async () => {
  const { lines, keys } = await recordStream({ sizes: [4], every: 2 });
  const k = lines.findIndex((l) => l.properties['percept-sig']);
  const c = copy(at(lines, k));
  c.properties['percept-att'] = 'tpm';
  const r = await verifyLines(replaced(lines, k, c), keys);
  assert.equal(r.ok, false);
  assert.equal(at(at(r.devices, 0).forgeries, 0).reason, 'attestation-mismatch');
});
