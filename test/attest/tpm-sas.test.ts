// SAS tokens signed inside the TPM: `percept tpm import-key` moves the device key into swtpm,
// the real SDK connects to the emulator with TpmSasProvider, telemetry arrives, and renewed
// tokens keep the connection alive past the first token's expiry. A wrong key is refused.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSwtpm, tpmSkipReason } from '../helpers/swtpm.js';
import { must } from '../helpers/at.js';
import { startTestHub, azureDevice, azureMqtt } from '../helpers/emulator.js';
import { runCli } from '../helpers/cli.js';
import { Tpm } from '../../src/attest/tpm.js';
import { TpmSasProvider, keyInTpm } from '../../src/hub/tpm-auth.js';

const skip = tpmSkipReason();

test('a TPM-signed SAS token connects, telemetry arrives, and renewal keeps it connected', { skip, timeout: 60_000 }, async (t) => {
  const sw = await startSwtpm();
  t.after(() => sw.stop());
  const hub = await startTestHub({ deviceId: 'tpm-sas' });
  t.after(() => hub.close());

  const imported = await runCli(['tpm', 'import-key', '--connection-string', hub.connectionString, '--tcti', sw.tcti]);
  assert.equal(imported.code, 0, imported.stderr);
  const cs = imported.stdout.trim();
  const key = must(/SharedAccessKey=([^;]+)/.exec(hub.connectionString)?.[1], 'the key in the connection string');
  assert.ok(!cs.includes(key) && !/SharedAccessKey=/.test(cs), 'the printed connection string holds no key');
  assert.match(cs, /^HostName=[^;]+;DeviceId=tpm-sas;SharedAccessKeyInTpm=true$/);
  assert.ok(keyInTpm(cs));

  const tpm = await Tpm.open(sw.tcti);
  t.after(() => tpm.close());
  const provider = TpmSasProvider.fromConnectionString(cs, tpm, { tokenValidSeconds: 4, renewalMarginSeconds: 2 });
  const tokens: string[] = [];
  provider.on('newTokenAvailable', (c: { sharedAccessSignature: string }) => tokens.push(c.sharedAccessSignature));
  const client = azureDevice.Client.fromAuthenticationProvider(provider, azureMqtt.Mqtt);
  await client.setOptions({ ca: hub.ca });
  client.on('error', () => undefined);
  t.after(() => client.close());
  await client.open();
  await client.sendEvent(new azureDevice.Message('first'));
  await hub.hub.waitForMessages(1, { deviceId: 'tpm-sas' }, 5000);

  // The first token expires after 4 s and the emulator then closes the connection, as IoT Hub
  // does; renewed tokens (every 2 s) must keep it open.
  await sleep(6500);
  assert.ok(tokens.length >= 2, `renewed ${tokens.length} times`);
  assert.ok(hub.hub.isConnected('tpm-sas'), 'still connected after the first token expired');
  await client.sendEvent(new azureDevice.Message('second'));
  const msgs = await hub.hub.waitForMessages(2, { deviceId: 'tpm-sas' }, 5000);
  assert.deepEqual(
    msgs.map((m) => m.body),
    ['first', 'second'],
  );
});

test('a SAS token signed with the wrong key in the TPM is refused', { skip, timeout: 60_000 }, async (t) => {
  const sw = await startSwtpm();
  t.after(() => sw.stop());
  const hub = await startTestHub({ deviceId: 'tpm-wrong' });
  t.after(() => hub.close());
  const wrong = hub.connectionString.replace(/SharedAccessKey=[^;]+/, `SharedAccessKey=${Buffer.alloc(32, 7).toString('base64')}`);
  const imported = await runCli(['tpm', 'import-key', '--connection-string', wrong, '--tcti', sw.tcti]);
  assert.equal(imported.code, 0, imported.stderr);
  const tpm = await Tpm.open(sw.tcti);
  t.after(() => tpm.close());
  const client = azureDevice.Client.fromAuthenticationProvider(TpmSasProvider.fromConnectionString(imported.stdout.trim(), tpm), azureMqtt.Mqtt);
  await client.setOptions({ ca: hub.ca });
  client.setRetryPolicy({ shouldRetry: () => false, nextRetryTimeout: () => -1 });
  client.on('error', () => undefined);
  await assert.rejects(client.open(), /Not authorized|not authorized|Unauthorized/i);
  assert.equal(hub.hub.isConnected('tpm-wrong'), false);
});
