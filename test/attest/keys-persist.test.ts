// The project's signing and attestation keys are created once and persist: across
// ensureKeys calls, a closed and reopened context, and a restart of the TPM itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startSwtpm, tpmSkipReason } from '../helpers/swtpm.js';
import { Tpm } from '../../src/attest/tpm.js';
import { HANDLES } from '../../src/attest/handles.js';

const skip = tpmSkipReason();

test('keys are created, then reused after reopen and after a TPM restart', { skip, timeout: 60_000 }, async (t) => {
  let sw = await startSwtpm();
  let tpm: Tpm | undefined;
  t.after(async () => {
    await tpm?.close();
    await sw.stop();
  });

  tpm = await Tpm.open(sw.tcti);
  const first = await tpm.ensureKeys();
  assert.deepEqual(first, {
    signing: { handle: HANDLES.signing, created: true },
    attestation: { handle: HANDLES.attestation, created: true },
  });
  const persistent = (await tpm.handles()).persistent;
  assert.ok(persistent.includes(HANDLES.signing) && persistent.includes(HANDLES.attestation));

  const signing = await tpm.readPublic(HANDLES.signing);
  const ak = await tpm.readPublic(HANDLES.attestation);
  assert.equal(signing.type, 'ecc');
  assert.equal(signing.restricted, false);
  assert.equal(ak.type, 'ecc');
  assert.equal(ak.restricted, true);
  assert.equal(signing.publicKey?.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.notDeepEqual(signing.spki, ak.spki);
  // The TPM name is nameAlg (SHA-256 = 0x000b) || SHA-256(TPMT_PUBLIC).
  const expectedName = Buffer.concat([Buffer.from([0x00, 0x0b]), createHash('sha256').update(signing.publicArea).digest()]);
  assert.deepEqual(signing.name, expectedName);

  // Idempotent on the same context.
  const again = await tpm.ensureKeys();
  assert.equal(again.signing.created, false);
  assert.equal(again.attestation.created, false);

  // A new context on the same TPM.
  await tpm.close();
  tpm = await Tpm.open(sw.tcti);
  assert.equal((await tpm.ensureKeys()).signing.created, false);
  assert.equal((await tpm.readPublic(HANDLES.signing)).publicKeyPem, signing.publicKeyPem);

  // The TPM restarts (a reboot): same state folder, new process, new ports.
  await tpm.close();
  tpm = undefined;
  await sw.stop();
  sw = await startSwtpm({ stateDir: sw.stateDir });
  tpm = await Tpm.open(sw.tcti);
  const afterRestart = await tpm.ensureKeys();
  assert.equal(afterRestart.signing.created, false);
  assert.equal(afterRestart.attestation.created, false);
  assert.equal((await tpm.readPublic(HANDLES.signing)).publicKeyPem, signing.publicKeyPem);
  assert.equal((await tpm.readPublic(HANDLES.attestation)).publicKeyPem, ak.publicKeyPem);
  // Creating them left nothing transient behind.
  const handles = await tpm.handles();
  assert.deepEqual(handles.transient, []);
  assert.deepEqual(handles.sessions, []);
});
