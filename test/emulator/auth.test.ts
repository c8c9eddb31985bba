// CONNECT of a SAS identity is accepted only with a valid SAS token: a wrong key, an unknown
// device, an expired token or no password are refused (CONNACK 5), a malformed password or
// username is CONNACK 4, and a token that expires on an open connection closes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSas } from '../../src/emulator/index.js';
import { azureDevice, azureMqtt, connack, deviceClient, startTestHub } from '../helpers/emulator.js';
import { must } from '../helpers/at.js';

test('wrong key, unknown device, expired token and malformed credentials are refused', { timeout: 20_000 }, async () => {
  const h = await startTestHub();
  const key = must(h.connectionString.split('SharedAccessKey=')[1], 'the shared access key');
  try {
    const wrong = await deviceClient(h.connectionString.replace(key, Buffer.alloc(32, 7).toString('base64')), h.ca);
    await assert.rejects(wrong.open(), { name: 'UnauthorizedError' });
    const unknown = await deviceClient(h.connectionString.replace(`DeviceId=${h.deviceId}`, 'DeviceId=ghost'), h.ca);
    await assert.rejects(unknown.open(), { name: 'UnauthorizedError' });

    const expired = azureDevice.Client.fromSharedAccessSignature(
      createSas(h.hub.hostName, { deviceId: h.deviceId, moduleId: null }, key, Math.floor(Date.now() / 1000) - 5),
      azureMqtt.Mqtt,
    );
    await expired.setOptions({ ca: h.ca });
    expired.on('error', () => {});
    await assert.rejects(expired.open(), { name: 'UnauthorizedError' });
    assert.equal(h.hub.isConnected(h.deviceId), false);

    const user = `${h.hub.hostName}/${h.deviceId}/?api-version=2021-04-12`;
    const se = Math.floor(Date.now() / 1000) + 600;
    const good = createSas(h.hub.hostName, { deviceId: h.deviceId, moduleId: null }, key, se);
    // the host is accepted without its port and in any case, as the SDK may sign either
    assert.equal(await connack(h.hub.mqttPort, h.ca, h.deviceId, user, createSas('LOCALHOST', { deviceId: h.deviceId, moduleId: null }, key, se)), 0);
    assert.equal(await connack(h.hub.mqttPort, h.ca, h.deviceId, user, good), 0);
    assert.equal(await connack(h.hub.mqttPort, h.ca, h.deviceId, user, 'not a token'), 4);
    assert.equal(await connack(h.hub.mqttPort, h.ca, h.deviceId, user, undefined), 5, 'a SAS device needs its token');
    assert.equal(await connack(h.hub.mqttPort, h.ca, h.deviceId, `elsewhere/${h.deviceId}/?api-version=1`, good), 4);
    assert.equal(await connack(h.hub.mqttPort, h.ca, 'other', `${h.hub.hostName}/other/?api-version=1`, good), 5);
    // a port mapping or proxy in front of the hub changes the port the SDK signs, not the host
    const mapped = createSas('localhost:18883', { deviceId: h.deviceId, moduleId: null }, key, se);
    assert.equal(await connack(h.hub.mqttPort, h.ca, h.deviceId, `localhost:18883/${h.deviceId}/?api-version=1`, mapped), 0);
    assert.equal(await connack(h.hub.mqttPort, h.ca, h.deviceId, `localhostx/${h.deviceId}/?api-version=1`, good), 4);
    assert.equal(await connack(h.hub.mqttPort, h.ca, h.deviceId, user, createSas('localhost.evil', { deviceId: h.deviceId, moduleId: null }, key, se)), 5);
    // a token for another hub host
    assert.equal(await connack(h.hub.mqttPort, h.ca, h.deviceId, user, createSas('evil:1', { deviceId: h.deviceId, moduleId: null }, key, se)), 5);
  } finally {
    await h.close();
  }
});

test('a token that expires on an open connection closes it', { timeout: 20_000 }, async () => {
  const h = await startTestHub();
  const key = must(h.connectionString.split('SharedAccessKey=')[1], 'the shared access key');
  const sas = createSas(h.hub.hostName, { deviceId: h.deviceId, moduleId: null }, key, Math.floor(Date.now() / 1000) + 2);
  const client = azureDevice.Client.fromSharedAccessSignature(sas, azureMqtt.Mqtt);
  try {
    await client.setOptions({ ca: h.ca });
    client.on('error', () => {});
    client.setRetryPolicy({ shouldRetry: () => false, nextRetryTimeout: () => -1 });
    await client.open();
    assert.equal(h.hub.isConnected(h.deviceId), true);
    const started = Date.now();
    await new Promise((resolve) => client.on('disconnect', resolve));
    assert.ok(Date.now() - started < 3500);
    assert.equal(h.hub.isConnected(h.deviceId), false);
  } finally {
    await client.close();
    await h.close();
  }
});
