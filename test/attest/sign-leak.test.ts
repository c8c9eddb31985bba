// 10,000 signatures through one context, issued concurrently from JS, leave the TPM with
// exactly the transient objects and sessions it had before (none): nothing leaks per sign.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, verify } from 'node:crypto';
import { openTestTpm, tpmSkipReason } from '../helpers/swtpm.js';
import { HANDLES } from '../../src/attest/handles.js';
import { at } from '../helpers/at.js';

const skip = tpmSkipReason();
const SIGNS = 10_000;
const IN_FLIGHT = 256; // below the Tpm's default bound of 1024 queued operations

test(`${SIGNS} signs leave no transient objects`, { skip, timeout: 10 * 60_000 }, async (t) => {
  const { tpm } = await openTestTpm(t);
  await tpm.ensureKeys();
  const pub = await tpm.readPublic(HANDLES.signing);
  const before = await tpm.handles();

  const messages = Array.from({ length: SIGNS }, (_, i) => Buffer.from(`message ${i}`));
  const signatures = new Array<Buffer>(SIGNS);
  let next = 0;
  const started = performance.now();
  // IN_FLIGHT workers each keep one sign outstanding: the context queue never runs dry.
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < SIGNS) {
        const i = next++;
        signatures[i] = await tpm.sign(HANDLES.signing, createHash('sha256').update(at(messages, i)).digest());
      }
    }),
  );
  const ms = performance.now() - started;
  t.diagnostic(`${SIGNS} signs in ${(ms / 1000).toFixed(2)} s: ${(SIGNS / (ms / 1000)).toFixed(0)} signs/s, ${(ms / SIGNS).toFixed(3)} ms each`);

  const after = await tpm.handles();
  assert.deepEqual(after.transient, before.transient);
  assert.deepEqual(after.sessions, before.sessions);
  assert.deepEqual(after.transient, []);
  assert.deepEqual(after.persistent, before.persistent);

  // Every signature is a real one over its own message.
  for (let i = 0; i < SIGNS; i++) {
    assert.ok(verify('sha256', at(messages, i), pub.publicKey!, at(signatures, i)), `signature ${i}`);
  }
});
