// Cloud-to-device messages: sent through the HTTP API with properties, received by the real
// SDK; a message sent while the device is offline waits and arrives once it subscribes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceClient, JSON_HEADERS, startTestHub } from '../helpers/emulator.js';
import { at } from '../helpers/at.js';

type Message = import('azure-iot-device').Message;

test('C2D through the API reaches the device, also when it was offline', { timeout: 20_000 }, async () => {
  const h = await startTestHub();
  const client = await deviceClient(h.connectionString, h.ca);
  try {
    const early = await fetch(`${h.api}/devices/${h.deviceId}/c2d`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ body: 'while offline', messageId: 'c2d-0' }),
    });
    assert.equal(early.status, 202);
    assert.deepEqual(await early.json(), { messageId: 'c2d-0', queued: true });

    const received: Message[] = [];
    const two = new Promise<void>((resolve) =>
      client.on('message', (m: Message) => {
        received.push(m);
        if (received.length === 2) resolve();
      }),
    );
    await client.open();
    const res = await fetch(`${h.api}/devices/${h.deviceId}/c2d`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ body: { command: 'snapshot' }, properties: { priority: 'high' }, correlationId: 'corr-9', contentType: 'application/json' }),
    });
    assert.equal(res.status, 202);
    await two;
    assert.equal((at(received, 0).data as Buffer).toString(), 'while offline');
    assert.equal(at(received, 0).messageId, 'c2d-0');
    assert.deepEqual(JSON.parse((at(received, 1).data as Buffer).toString()), { command: 'snapshot' });
    assert.equal(at(received, 1).correlationId, 'corr-9');
    assert.equal(at(received, 1).contentType, 'application/json');
    assert.equal(at(received, 1).properties.getValue('priority'), 'high');

    const bad = await fetch(`${h.api}/devices/${h.deviceId}/c2d`, { method: 'POST', headers: JSON_HEADERS, body: '{"properties":{"n":1}}' });
    assert.equal(bad.status, 400);
    const missing = await fetch(`${h.api}/devices/ghost/c2d`, { method: 'POST', headers: JSON_HEADERS, body: '{"body":1}' });
    assert.equal(missing.status, 404);
  } finally {
    await client.close();
    await h.close();
  }
});
