// The `attest` direct method without a TPM: an agent signing with the software key answers
// 409 saying no quote is possible (and why), and malformed payloads get 400 first.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startTestHub } from '../helpers/emulator.js';
import { agentArgs, startAgent, until } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';
import { decodeNonce } from '../../src/agent/attest-method.js';

test('attest with the software signer: 409 with a clear reason; bad payloads: 400', { timeout: 60_000 }, async () => {
  const hub = await startTestHub();
  const state = tempDir();
  const agent = startAgent(agentArgs(hub, state), { stateDir: state });
  try {
    await until('connected', () => hub.hub.isConnected(hub.deviceId), 30_000);
    await hub.hub.waitForMessages(1, { deviceId: hub.deviceId }, 30_000);
    const call = (payload: unknown) => hub.hub.invokeMethod(hub.deviceId, 'attest', payload, { timeoutSeconds: 10 });
    const r = await call({ nonce: '00112233445566778899' });
    assert.equal(r.status, 409);
    assert.match(JSON.stringify(r.payload), /no TPM quote is possible: checkpoints are signed with the software key.*--signer tpm/);
    for (const bad of [
      null,
      {},
      { nonce: 'zz' },
      { nonce: '0011' },
      { nonce: 'ab'.repeat(65) },
      { nonce: '0011223344556677', pcrs: [24] },
      { nonce: '0011223344556677', bank: 'md5' },
      { nonce: '0011223344556677', extra: 1 },
    ]) {
      const b = await call(bad);
      assert.equal(b.status, 400, JSON.stringify(bad));
      assert.match((b.payload as { error: { message: string } }).error.message, /^expected \{"nonce": /);
    }
  } finally {
    assert.equal(await agent.stop(), 0, agent.stderr());
    await hub.close();
  }
});

test('nonces are read as hex when they are even-length hex, else as base64', () => {
  assert.deepEqual(decodeNonce('00ff'), Buffer.from([0, 255]));
  assert.deepEqual(decodeNonce(Buffer.from('percept nonce!').toString('base64')), Buffer.from('percept nonce!'));
  assert.equal(decodeNonce('not base64!'), null);
});
