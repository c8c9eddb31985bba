// Without a loadable addon, opening the TPM fails with one TpmError (reason 'unavailable')
// that lists the concrete fixes, and importing the module does not fail by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { at } from '../helpers/at.js';

const TPM_MODULE = new URL('../../src/attest/tpm.js', import.meta.url).href;

// In a worker so PERCEPT_TPM2_ADDON (read when tpm.js loads) points at a missing file.
const WORKER = `
  const { parentPort, workerData } = require('node:worker_threads');
  import(workerData.module).then(async ({ Tpm }) => {
    try {
      await Tpm.open('swtpm:host=127.0.0.1,port=1');
      parentPort.postMessage({ ok: true });
    } catch (e) {
      parentPort.postMessage({ code: e.code, reason: e.reason, name: e.name, message: e.message });
    }
  });
`;

test('a missing addon is one typed error listing the fixes', async () => {
  const w = new Worker(WORKER, {
    eval: true,
    workerData: { module: TPM_MODULE },
    env: { ...process.env, PERCEPT_TPM2_ADDON: '/nonexistent/tpm2.node' },
  });
  const m = at(await once(w, 'message'), 0) as { code: string; reason: string; name: string; message: string };
  assert.equal(m.code, 'ERR_TPM');
  assert.equal(m.reason, 'unavailable');
  assert.equal(m.name, 'TpmError');
  assert.match(m.message, /\/nonexistent\/tpm2\.node/);
  assert.match(m.message, /apt-get install libtss2/);
  assert.match(m.message, /node scripts\/build-native\.mjs/);
  assert.match(m.message, /\/dev\/tpmrm0/);
  assert.match(m.message, /--tcti/);
  await once(w, 'exit');
});
