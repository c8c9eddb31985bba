// Evicting a key removes it and ensureKeys makes a new one; ensureKeys never takes over
// (or silently replaces) a persistent object of another kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openTestTpm, tpmSkipReason } from '../helpers/swtpm.js';
import { HANDLES } from '../../src/attest/handles.js';
import { TpmError } from '../../src/attest/tpm-error.js';

const skip = tpmSkipReason();

test('an evicted key is recreated with a new key pair; the other key is untouched', { skip, timeout: 60_000 }, async (t) => {
  const { tpm } = await openTestTpm(t);
  await tpm.ensureKeys();
  const signing = await tpm.readPublic(HANDLES.signing);
  const ak = await tpm.readPublic(HANDLES.attestation);

  await tpm.evictPersistent(HANDLES.attestation);
  assert.ok(!(await tpm.handles()).persistent.includes(HANDLES.attestation));
  await assert.rejects(tpm.readPublic(HANDLES.attestation), (e: unknown) => e instanceof TpmError && e.reason === 'not-found');

  const keys = await tpm.ensureKeys();
  assert.equal(keys.attestation.created, true);
  assert.equal(keys.signing.created, false);
  assert.notEqual((await tpm.readPublic(HANDLES.attestation)).publicKeyPem, ak.publicKeyPem);
  assert.equal((await tpm.readPublic(HANDLES.signing)).publicKeyPem, signing.publicKeyPem);
});

test('ensureKeys refuses a handle that holds another kind of object', { skip, timeout: 60_000 }, async (t) => {
  const { tpm } = await openTestTpm(t);
  await tpm.importHmacKey(Buffer.alloc(32, 1), 0x81000a10);
  await assert.rejects(tpm.ensureKeys({ signing: 0x81000a10 }), (e: unknown) => {
    assert.ok(e instanceof TpmError);
    assert.equal(e.code, 'ERR_TPM');
    assert.equal(e.reason, 'command');
    assert.match(e.message, /0x81000a10 holds an object that is not a signing key/);
    return true;
  });
  // A signing key where the attestation key belongs is refused too: restricted matters.
  await tpm.ensureKeys();
  await assert.rejects(tpm.ensureKeys({ signing: 0x81000a11, attestation: HANDLES.signing }), /not an attestation key/);
  // The object is still there: nothing was evicted.
  assert.ok((await tpm.handles()).persistent.includes(0x81000a10));
});

test('only percept handles can be created or evicted', { skip, timeout: 60_000 }, async (t) => {
  const { tpm } = await openTestTpm(t);
  for (const handle of [0x81010001, 0x81000001, 0x81000100]) {
    await assert.rejects(tpm.evictPersistent(handle), (e: unknown) => e instanceof TpmError && e.reason === 'argument');
    await assert.rejects(tpm.ensureKeys({ signing: handle }), (e: unknown) => e instanceof TpmError && e.reason === 'argument');
    await assert.rejects(tpm.importHmacKey(Buffer.alloc(32), handle), /Expected percept persistent handle/);
  }
});
