// The TPM's random number generator through the addon, against a real swtpm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openTestTpm, tpmSkipReason } from '../helpers/swtpm.js';
import { TpmError } from '../../src/attest/tpm-error.js';

const skip = tpmSkipReason();

test('getRandom returns the requested number of fresh bytes', { skip, timeout: 60_000 }, async (t) => {
  const { tpm } = await openTestTpm(t);
  const a = await tpm.getRandom(32);
  const b = await tpm.getRandom(32);
  assert.equal(a.length, 32);
  assert.notDeepEqual(a, b);
  // More than one TPM2_GetRandom can return: the addon loops.
  const big = await tpm.getRandom(1000);
  assert.equal(big.length, 1000);
  assert.ok(new Set(big).size > 200, 'bytes look random');
  await assert.rejects(tpm.getRandom(0), (e: unknown) => e instanceof TpmError && e.reason === 'argument');
});

test('open reports who made the TPM', { skip, timeout: 60_000 }, async (t) => {
  const { tpm } = await openTestTpm(t);
  assert.equal(tpm.identity.manufacturer, 'IBM'); // libtpms, which swtpm runs
  assert.match(tpm.identity.firmware, /^[0-9a-f]{8}\.[0-9a-f]{8}$/);
});
