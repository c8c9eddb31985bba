// An HMAC key imported into the TPM (the IoT Hub SAS key) computes the same HMAC-SHA256
// as node:crypto with that key, for short data and for data longer than one TPM buffer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { openTestTpm, tpmSkipReason } from '../helpers/swtpm.js';
import { HANDLES } from '../../src/attest/handles.js';

const skip = tpmSkipReason();
const hmac = (key: Buffer, data: Buffer): Buffer => createHmac('sha256', key).update(data).digest();

test('TPM HMAC equals node:crypto HMAC for the imported key', { skip, timeout: 60_000 }, async (t) => {
  const { tpm } = await openTestTpm(t);
  const key = randomBytes(32);
  await tpm.importHmacKey(key);
  assert.ok((await tpm.handles()).persistent.includes(HANDLES.hmac));

  // What a SAS token signs: "{resourceUri}\n{expiry}".
  const sas = Buffer.from('myhub.azure-devices.net%2Fdevices%2Fpercept-01\n1767225600');
  assert.deepEqual(await tpm.hmac(HANDLES.hmac, sas), hmac(key, sas));
  for (const size of [0, 1, 1024, 1025, 5000]) {
    const data = randomBytes(size);
    assert.deepEqual(await tpm.hmac(HANDLES.hmac, data), hmac(key, data), `${size} bytes`);
  }
  const handles = await tpm.handles();
  assert.deepEqual(handles.transient, [], 'sequence objects and the import session are flushed');
  assert.deepEqual(handles.sessions, []);
});

test('importing a new key replaces the old one at the handle', { skip, timeout: 60_000 }, async (t) => {
  const { tpm } = await openTestTpm(t);
  const oldKey = randomBytes(32);
  const newKey = randomBytes(64); // IoT Hub primary keys decode to 64 bytes
  const data = Buffer.from('payload');
  await tpm.importHmacKey(oldKey);
  await tpm.importHmacKey(newKey);
  const mac = await tpm.hmac(HANDLES.hmac, data);
  assert.deepEqual(mac, hmac(newKey, data));
  assert.notDeepEqual(mac, hmac(oldKey, data));
  assert.equal((await tpm.handles()).persistent.filter((h) => h === HANDLES.hmac).length, 1);
});

test('keys longer than the SHA-256 block give node:crypto HMACs too', { skip, timeout: 60_000 }, async (t) => {
  const { tpm } = await openTestTpm(t);
  const key = randomBytes(100);
  await tpm.importHmacKey(key);
  const data = Buffer.from('long key');
  assert.deepEqual(await tpm.hmac(HANDLES.hmac, data), hmac(key, data));
});
