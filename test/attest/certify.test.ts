// certify: the attestation key vouches that the signing key lives in this TPM. The
// TPMS_ATTEST names the certified key, carries the nonce, and verifies with the AK.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, verify } from 'node:crypto';
import { openTestTpm, tpmSkipReason } from '../helpers/swtpm.js';
import { HANDLES } from '../../src/attest/handles.js';
import { TPM_GENERATED, parseAttest } from '../../src/attest/tpms-attest.js';

const skip = tpmSkipReason();

test('certify of the signing key verifies with the AK and names the key', { skip, timeout: 60_000 }, async (t) => {
  const { tpm } = await openTestTpm(t);
  await tpm.ensureKeys();
  const ak = await tpm.readPublic(HANDLES.attestation);
  const signing = await tpm.readPublic(HANDLES.signing);
  const nonce = randomBytes(16);

  const c = await tpm.certify(HANDLES.signing, HANDLES.attestation, nonce);
  assert.ok(verify('sha256', c.attest, ak.publicKey!, c.signature));
  assert.ok(!verify('sha256', c.attest, signing.publicKey!, c.signature));
  const a = parseAttest(c.attest);
  assert.equal(a.magic, TPM_GENERATED);
  assert.equal(a.type, 'certify');
  assert.deepEqual(a.extraData, nonce);
  if (a.type !== 'certify') return;
  assert.deepEqual(a.name, signing.name);

  // A tampered statement (another nonce) no longer verifies.
  const forged = Buffer.from(c.attest);
  const i = forged.indexOf(nonce);
  forged.writeUInt8(forged.readUInt8(i) ^ 1, i);
  assert.ok(!verify('sha256', forged, ak.publicKey!, c.signature));
  assert.deepEqual((await tpm.handles()).transient, []);
});
