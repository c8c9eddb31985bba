#!/usr/bin/env node
// Run by check-arm64.sh inside the arm64 root file system with the bundle's Node.js: loads the
// cross-compiled TPM addon through the agent's own Tpm class, signs a digest with the TPM's
// signing key and verifies the signature with node:crypto.
// Usage: node tpm-sign.mjs <tcti>   (e.g. swtpm:host=127.0.0.1,port=2321)
import { createHash, verify } from 'node:crypto';

const bundle = process.env.PERCEPT_HOME ?? '/opt/percept';
const { Tpm } = await import(`${bundle}/dist/src/attest/tpm.js`);
const tpm = await Tpm.open(process.argv[2]);
try {
  const { signing } = await tpm.ensureKeys();
  const pub = await tpm.readPublic(signing.handle);
  const message = Buffer.from(`percept arm64 check ${process.arch} ${Date.now()}`);
  const sig = await tpm.sign(signing.handle, createHash('sha256').update(message).digest());
  if (!verify('sha256', message, pub.publicKey, sig)) throw new Error('the TPM signature does not verify');
  console.log(`tpm sign ok (${process.arch}, key 0x${signing.handle.toString(16)}, ${sig.length}-byte ECDSA signature verified)`);
} finally {
  await tpm.close();
}
