// Signatures made inside the TPM verify with node:crypto against the key readPublic returns,
// both through Tpm.sign (a raw digest) and through the TpmSigner the telemetry chain uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, verify } from 'node:crypto';
import { openTestTpm, tpmSkipReason } from '../helpers/swtpm.js';
import { HANDLES } from '../../src/attest/handles.js';
import { TpmSigner } from '../../src/attest/tpm-signer.js';
import { keyIdOf, verifyDigestSignature } from '../../src/attest/signer.js';

const skip = tpmSkipReason();

test('Tpm.sign of SHA-256(message) verifies as ECDSA-SHA256 over the message', { skip, timeout: 60_000 }, async (t) => {
  const { tpm } = await openTestTpm(t);
  await tpm.ensureKeys();
  const pub = await tpm.readPublic(HANDLES.signing);
  const message = Buffer.from('window 42 of camera front-door');
  const sig = await tpm.sign(HANDLES.signing, createHash('sha256').update(message).digest());
  assert.equal(sig[0], 0x30, 'DER SEQUENCE');
  assert.ok(verify('sha256', message, pub.publicKey!, sig));
  assert.ok(verify('sha256', message, pub.publicKeyPem!, sig));
  assert.ok(!verify('sha256', Buffer.from('window 43 of camera front-door'), pub.publicKey!, sig));
  // ECDSA is randomised: two signatures of one digest differ and both verify.
  const sig2 = await tpm.sign(HANDLES.signing, createHash('sha256').update(message).digest());
  assert.notDeepEqual(sig, sig2);
  assert.ok(verify('sha256', message, pub.publicKey!, sig2));
});

test('TpmSigner signs chain digests verifiably and names its key', { skip, timeout: 60_000 }, async (t) => {
  const { sw } = await openTestTpm(t);
  // The signer opens and owns a second context on the same TPM.
  const signer = await TpmSigner.open({ tcti: sw.tcti });
  t.after(() => signer.close());
  assert.equal(signer.attestation, 'tpm');
  assert.match(signer.kid, /^[0-9a-f]{16}$/);
  assert.equal(signer.kid, keyIdOf(signer.publicKey.spki!));
  assert.match(signer.publicKeyPem, /^-----BEGIN PUBLIC KEY-----/);
  const digest = createHash('sha256').update('message 7').digest();
  const sig = await signer.sign(digest);
  assert.ok(verifyDigestSignature(signer.publicKeyPem, digest, sig));
  assert.ok(!verifyDigestSignature(signer.publicKeyPem, Buffer.alloc(32), sig));
});
