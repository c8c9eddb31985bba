// The (r, s) to DER conversion the TPM signatures go through, checked against node:crypto
// on many signatures so the leading-zero and high-bit cases all occur.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { ecdsaDer, ecdsaP1363 } from '../../src/attest/ecdsa.js';
import { at } from '../helpers/at.js';

test('DER from (r, s) verifies and matches what node:crypto encodes', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let highBit = 0;
  for (let i = 0; i < 300; i++) {
    const data = Buffer.from(`m${i}`);
    const p1363 = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    const r = p1363.subarray(0, 32);
    const s = p1363.subarray(32);
    if (at(r, 0) & 0x80) highBit++;
    const der = ecdsaDer(r, s);
    assert.ok(verify('sha256', data, publicKey, der));
    // Same bytes as node's DER for that signature (canonical encoding).
    const nodeDer = sign('sha256', data, { key: privateKey, dsaEncoding: 'der' });
    assert.ok(verify('sha256', data, publicKey, nodeDer));
    assert.deepEqual(ecdsaP1363(r, s), p1363);
  }
  assert.ok(highBit > 0, 'the 0x00 prefix case occurred');
});

test('leading zeros are stripped and short integers padded back', () => {
  const r = Buffer.concat([Buffer.alloc(3), Buffer.from([0x01, 0x02])]);
  const s = Buffer.from([0x80]);
  assert.deepEqual(ecdsaDer(r, s), Buffer.from([0x30, 0x08, 0x02, 0x02, 0x01, 0x02, 0x02, 0x02, 0x00, 0x80]));
  assert.deepEqual(ecdsaP1363(Buffer.from([1]), Buffer.from([2]), 4), Buffer.from([0, 0, 0, 1, 0, 0, 0, 2]));
});
