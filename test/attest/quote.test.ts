// A quote is a TPMS_ATTEST over the selected PCRs, signed by the restricted attestation
// key: the signature verifies with the AK's public key, the nonce is its extraData, and
// the PCR digest is SHA-256 over the PCR values pcrRead returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes, verify } from 'node:crypto';
import { openTestTpm, startSwtpm, tpmSkipReason } from '../helpers/swtpm.js';
import { HANDLES } from '../../src/attest/handles.js';
import { Tpm } from '../../src/attest/tpm.js';
import { TPM_GENERATED, parseAttest } from '../../src/attest/tpms-attest.js';
import { at } from '../helpers/at.js';

const skip = tpmSkipReason();
const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();

test('pcrRead reads every requested PCR, including more than one command returns', { skip, timeout: 60_000 }, async (t) => {
  const { tpm } = await openTestTpm(t);
  const all = Array.from({ length: 24 }, (_, i) => i);
  const r = await tpm.pcrRead('sha256', [...all].reverse());
  assert.deepEqual(r.pcrs, all, 'sorted');
  assert.equal(r.digests.length, 24);
  for (const d of r.digests) assert.equal(d.length, 32);
  const sha1 = await tpm.pcrRead('sha1', [0]);
  assert.equal(at(sha1.digests, 0).length, 20);
});

test('quote verifies with the AK and carries the nonce and the PCR digest', { skip, timeout: 60_000 }, async (t) => {
  const sw = await startSwtpm();
  t.after(() => sw.stop());
  // Give PCR 16 (debug PCR, resettable) a non-zero value with tpm2-tools when available,
  // so the digest check below is not a check of all-zero PCRs.
  const extend = sha256(Buffer.from('percept'));
  const extended = spawnSync('tpm2_pcrextend', ['-T', sw.tcti, `16:sha256=${extend.toString('hex')}`], { stdio: 'ignore' }).status === 0;

  const tpm = await Tpm.open(sw.tcti);
  t.after(() => tpm.close());
  await tpm.ensureKeys();
  const ak = await tpm.readPublic(HANDLES.attestation);
  const signing = await tpm.readPublic(HANDLES.signing);
  const pcrs = [0, 7, 16];
  const values = await tpm.pcrRead('sha256', pcrs);
  if (extended) assert.deepEqual(values.digests[2], sha256(Buffer.concat([Buffer.alloc(32), extend])));
  else t.diagnostic('tpm2_pcrextend unavailable: PCRs are all zero');

  const nonce = randomBytes(32);
  const q = await tpm.quote(HANDLES.attestation, pcrs, nonce);
  assert.ok(verify('sha256', q.attest, ak.publicKey!, q.signature), 'signed by the AK');
  assert.ok(!verify('sha256', q.attest, signing.publicKey!, q.signature), 'not by the signing key');

  const a = parseAttest(q.attest);
  assert.equal(a.magic, TPM_GENERATED);
  assert.equal(a.type, 'quote');
  assert.deepEqual(a.extraData, nonce);
  if (a.type !== 'quote') return;
  assert.deepEqual(a.pcrSelect, [{ hash: 0x000b, pcrs }]);
  assert.deepEqual(a.pcrDigest, sha256(Buffer.concat(values.digests)));

  // A different nonce gives a different, equally valid statement.
  const q2 = await tpm.quote(HANDLES.attestation, pcrs, Buffer.from('second'));
  assert.deepEqual(parseAttest(q2.attest).extraData, Buffer.from('second'));
  assert.ok(verify('sha256', q2.attest, ak.publicKey!, q2.signature));
  assert.deepEqual((await tpm.handles()).transient, []);
});
