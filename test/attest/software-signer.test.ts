// SoftwareSigner: an ECDSA P-256 key file created on first use with private permissions,
// reused on the next start, and signatures that verify like the TPM signer's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/paths.js';
import { SoftwareSigner } from '../../src/attest/software.js';
import { verifyDigestSignature } from '../../src/attest/signer.js';
import { PerceptError } from '../../src/errors.js';

test('creates the key file 0600 in a 0700 folder and signs verifiably', async () => {
  const file = path.join(tempDir(), 'keys', 'signing.pem');
  const signer = await SoftwareSigner.open(file);
  assert.equal(signer.attestation, 'software');
  assert.match(signer.kid, /^[0-9a-f]{16}$/);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['signing.pem'], 'no temp file left');

  const digest = createHash('sha256').update('checkpoint').digest();
  const sig = await signer.sign(digest);
  assert.equal(sig[0], 0x30, 'DER');
  assert.ok(verifyDigestSignature(signer.publicKeyPem, digest, sig));
  assert.ok(!verifyDigestSignature(signer.publicKeyPem, Buffer.alloc(32), sig));
  await signer.close();
});

test('the same file gives the same key on the next start, even when two start at once', async () => {
  const file = path.join(tempDir(), 'signing.pem');
  const [a, b] = await Promise.all([SoftwareSigner.open(file), SoftwareSigner.open(file)]);
  assert.equal(a.kid, b.kid);
  const again = await SoftwareSigner.open(file);
  assert.equal(again.kid, a.kid);
  assert.equal(again.publicKeyPem, a.publicKeyPem);
  const digest = Buffer.from('x');
  assert.ok(verifyDigestSignature(a.publicKeyPem, digest, await again.sign(digest)));
});

test('unsafe or unusable key files are configuration errors', async () => {
  const dir = tempDir();

  const loose = path.join(dir, 'loose.pem');
  await SoftwareSigner.open(loose);
  fs.chmodSync(loose, 0o644);
  await assert.rejects(SoftwareSigner.open(loose), (e: unknown) => {
    assert.ok(PerceptError.is(e, 'ERR_CONFIG'));
    assert.match((e as Error).message, /chmod 600/);
    return true;
  });

  const garbage = path.join(dir, 'garbage.pem');
  fs.writeFileSync(garbage, 'not a key', { mode: 0o600 });
  await assert.rejects(SoftwareSigner.open(garbage), /is not a PEM private key/);

  const rsa = path.join(dir, 'rsa.pem');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  fs.writeFileSync(rsa, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  await assert.rejects(SoftwareSigner.open(rsa), /must hold an ECDSA P-256 key/);
});
