// Every failure of the TPM layer is a TpmError (code ERR_TPM) whose `reason` a caller can
// act on, carrying the TSS2 return code and its decoded text when the TPM stack failed;
// failing operations leave no transient object or session behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { openTestTpm, startSwtpm, tpmSkipReason } from '../helpers/swtpm.js';
import { PerceptError } from '../../src/errors.js';
import { Tpm, loadTpmBinding } from '../../src/attest/tpm.js';
import type { NativeTpmError } from '../../src/attest/binding.js';
import { HANDLES } from '../../src/attest/handles.js';
import { TpmError, type TpmFailure } from '../../src/attest/tpm-error.js';

const skip = tpmSkipReason();

function isTpmError(reason: TpmFailure, withRc = false) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof TpmError, `expected a TpmError, got ${String(e)}`);
    assert.ok(PerceptError.is(e, 'ERR_TPM'));
    assert.equal(e.reason, reason, e.message);
    if (withRc) {
      assert.ok(typeof e.rc === 'number' && e.rc !== 0, 'carries the TSS2 return code');
      assert.ok(e.rcText && e.message.includes(e.rcText), 'and its decoded text');
    }
    return true;
  };
}

async function closedPort(): Promise<number> {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

test('a TCTI that does not exist is a connect error naming the fixes', { skip, timeout: 60_000 }, async () => {
  await assert.rejects(Tpm.open('nosuchtcti:whatever'), (e: unknown) => {
    isTpmError('connect', true)(e);
    assert.match((e as Error).message, /nosuchtcti/);
    assert.match((e as Error).message, /tpmrm0/);
    return true;
  });
  await assert.rejects(Tpm.open(''), isTpmError('argument'));
});

test('an unreachable swtpm port is a connect error', { skip, timeout: 60_000 }, async () => {
  const port = await closedPort();
  await assert.rejects(Tpm.open(`swtpm:host=127.0.0.1,port=${port}`), isTpmError('connect', true));
});

test('a missing key, a wrong key type and bad arguments are typed', { skip, timeout: 60_000 }, async (t) => {
  const { tpm } = await openTestTpm(t);
  await tpm.ensureKeys();
  const digest = createHash('sha256').update('x').digest();

  await assert.rejects(tpm.sign(0x81000a42, digest), (e: unknown) => {
    isTpmError('not-found', true)(e);
    assert.match((e as Error).message, /0x81000a42/);
    return true;
  });
  // An HMAC over an ECC signing key: the TPM refuses it.
  await assert.rejects(tpm.hmac(HANDLES.signing, Buffer.from('x')), isTpmError('command', true));
  // A restricted key cannot sign an arbitrary digest.
  await assert.rejects(tpm.sign(HANDLES.attestation, digest), isTpmError('command', true));

  await assert.rejects(tpm.sign(HANDLES.signing, Buffer.alloc(31)), (e: unknown) => {
    isTpmError('argument')(e);
    assert.match((e as Error).message, /Expected Buffer of 32 bytes for digest but received a Buffer of 31 bytes/);
    return true;
  });
  await assert.rejects(tpm.quote(HANDLES.attestation, [24], Buffer.alloc(0)), isTpmError('argument'));
  await assert.rejects(tpm.readPublic(0x80000001), isTpmError('argument'));
  // The context still works after all of that.
  await tpm.sign(HANDLES.signing, digest);
});

test('operations that fail half-way flush their transient objects and sessions', { skip, timeout: 60_000 }, async (t) => {
  const { sw, tpm } = await openTestTpm(t);
  await tpm.importHmacKey(Buffer.alloc(32, 9), 0x81000a20);
  // The signing key is created under a transient SRK, then the attestation handle turns
  // out to hold an HMAC key: the SRK must still be flushed.
  await assert.rejects(tpm.ensureKeys({ signing: 0x81000a21, attestation: 0x81000a20 }), isTpmError('command'));
  // Straight to the addon (Tpm hashes long keys first): a key the TPM refuses (longer than
  // the SHA-256 block) fails inside TPM2_Create, after the SRK and the salted session exist.
  const raw = new (loadTpmBinding().Context)();
  await raw.open(sw.tcti);
  await assert.rejects(raw.importHmacKey(0x81000a22, Buffer.alloc(128, 1)), (e: unknown) => {
    assert.equal((e as NativeTpmError).operation, 'Esys_Create');
    assert.equal((e as NativeTpmError).rc, 0x95); // TPM_RC_SIZE
    return true;
  });
  await raw.close();
  const handles = await tpm.handles();
  assert.deepEqual(handles.transient, []);
  assert.deepEqual(handles.sessions, []);
});

test('a closed Tpm rejects calls as closed', { skip, timeout: 60_000 }, async (t) => {
  const { tpm } = await openTestTpm(t);
  const pending = tpm.getRandom(8); // queued before close: still served
  await tpm.close();
  assert.equal((await pending).length, 8);
  await assert.rejects(tpm.getRandom(8), isTpmError('closed'));
  await tpm.close(); // idempotent
});

test('a full queue says busy instead of growing without bound', { skip, timeout: 60_000 }, async (t) => {
  const sw = await startSwtpm();
  t.after(() => sw.stop());
  const tpm = await Tpm.open(sw.tcti, { maxPending: 4 });
  t.after(() => tpm.close());
  const results = await Promise.allSettled(Array.from({ length: 10 }, () => tpm.getRandom(8)));
  const busy = results.filter((r) => r.status === 'rejected');
  assert.equal(results.length - busy.length, 4);
  for (const r of busy) isTpmError('busy')(r.reason);
  // Once the queue drains there is room again.
  assert.equal((await tpm.getRandom(8)).length, 8);
});
