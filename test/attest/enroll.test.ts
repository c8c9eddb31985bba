// `percept tpm enroll` prints a keys-file entry the verifier accepts as certified; a
// certification that was altered, or that vouches for another key, is refused (exit 2).
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startSwtpm, tpmSkipReason } from '../helpers/swtpm.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { KeyRing, type KeysFile } from '../../src/attest/keys.js';
import { keyIdOf } from '../../src/attest/signer.js';
import { PerceptError } from '../../src/errors.js';
import { at, must } from '../helpers/at.js';

const skip = tpmSkipReason();

test('tpm enroll prints a certified entry; altered certifications are refused', { skip, timeout: 60_000 }, async (t) => {
  const sw = await startSwtpm();
  t.after(() => sw.stop());
  const first = await runCli(['tpm', 'enroll', '--tcti', sw.tcti, '--device', 'cam-7']);
  assert.equal(first.code, 0, first.stderr);
  const keys = JSON.parse(first.stdout) as KeysFile;
  const entry = must(keys['cam-7'], "cam-7's entry");
  assert.equal(entry.keys.length, 1);
  assert.equal(at(entry.keys, 0).attestation, 'tpm');
  const ring = KeyRing.fromJson(keys);
  assert.equal(ring.keysFor('cam-7', null)!.get(at(entry.keys, 0).kid)!.certified, true);

  const again = must((JSON.parse((await runCli(['tpm', 'enroll', '--tcti', sw.tcti, '--device', 'cam-7'])).stdout) as KeysFile)['cam-7'], "cam-7's entry");
  assert.deepEqual(
    [again.keys, again.attestationKey, again.certification!.nonce],
    [entry.keys, entry.attestationKey, entry.certification!.nonce],
    'the keys persist; the default nonce is fixed per device',
  );
  const nonce = crypto.randomBytes(16).toString('hex');
  const fresh = JSON.parse((await runCli(['tpm', 'enroll', '--tcti', sw.tcti, '--device', 'cam-7', '--nonce', nonce])).stdout) as KeysFile;
  const refreshed = must(fresh['cam-7'], "cam-7's entry");
  assert.equal(refreshed.certification!.nonce, nonce);
  assert.equal(at(refreshed.keys, 0).kid, at(entry.keys, 0).kid);

  const other = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const otherPem = other.export({ format: 'pem', type: 'spki' }) as string;
  const otherKid = keyIdOf(other.export({ format: 'der', type: 'spki' }));
  const c = entry.certification!;
  const flip = (b64: string, at: number) => {
    const b = Buffer.from(b64, 'base64');
    b.writeUInt8(b.readUInt8(at) ^ 1, at);
    return b.toString('base64');
  };
  const altered: Array<[string, KeysFile['x']]> = [
    ['attest', { ...entry, certification: { ...c, attest: flip(c.attest, 20) } }],
    ['signature', { ...entry, certification: { ...c, signature: flip(c.signature, 10) } }],
    ['nonce', { ...entry, certification: { ...c, nonce: '00'.repeat(32) } }],
    ['publicArea', { ...entry, certification: { ...c, publicArea: flip(c.publicArea, Buffer.from(c.publicArea, 'base64').length - 3) } }],
    ['another signing key', { ...entry, keys: [{ kid: otherKid, publicKeyPem: otherPem, attestation: 'tpm' }], certification: { ...c, kid: otherKid } }],
    ['another attestation key', { ...entry, attestationKey: { kid: otherKid, publicKeyPem: otherPem } }],
  ];
  for (const [what, bad] of altered) {
    assert.throws(
      () => KeyRing.fromJson({ 'cam-7': bad }),
      (e: unknown) => PerceptError.is(e, 'ERR_INPUT') && /certification does not hold/.test((e as Error).message),
      what,
    );
  }
  const dir = tempDir();
  const file = path.join(dir, 'keys.json');
  fs.writeFileSync(file, JSON.stringify({ 'cam-7': at(at(altered, 0), 1) }));
  const messages = path.join(dir, 'm.jsonl');
  fs.writeFileSync(messages, '');
  const r = await runCli(['verify', '--messages', messages, '--keys', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /certification does not hold/);
});

test('tpm enroll without a device id, and tpm with no subcommand, are usage errors', async () => {
  const r = await runCli(['tpm', 'enroll', '--tcti', 'swtpm:host=127.0.0.1,port=1'], { env: { PERCEPT_CONNECTION_STRING: '' } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /pass --device/);
  assert.equal((await runCli(['tpm'])).code, 2);
  assert.equal((await runCli(['tpm', 'import-key'], { env: { PERCEPT_CONNECTION_STRING: '' } })).code, 2);
});
