// IoT Hub's 256 KB device-to-cloud limit counts the body and the properties: a message of
// exactly 256 KB is accepted; one byte more and the hub closes the connection and keeps nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LIMITS } from '../../src/emulator/index.js';
import { azureDevice, deviceClient, startTestHub } from '../helpers/emulator.js';

function message(bodyBytes: number): import('azure-iot-device').Message {
  const m = new azureDevice.Message(Buffer.alloc(bodyBytes, 0x61));
  m.properties.add('kk', 'vvvv'); // 6 bytes of properties
  return m;
}

test('the 256 KB telemetry limit includes properties; over it the connection is closed', { timeout: 20_000 }, async () => {
  const h = await startTestHub();
  const client = await deviceClient(h.connectionString, h.ca, { retry: false });
  try {
    await client.open();
    await client.sendEvent(message(LIMITS.telemetryBytes - 6));
    assert.equal(h.hub.messages().length, 1);

    const disconnected = new Promise((resolve) => client.on('disconnect', resolve));
    await assert.rejects(client.sendEvent(message(LIMITS.telemetryBytes - 5)));
    await disconnected;
    assert.equal(h.hub.messages().length, 1);
    assert.equal(h.hub.isConnected(h.deviceId), false);
  } finally {
    await client.close();
    await h.close();
  }
});
