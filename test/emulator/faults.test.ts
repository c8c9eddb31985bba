// Fault injection through the HTTP API: stopAcks holds PUBACKs so sendEvent does not complete
// (the message is kept, as when an ack is lost) until cleared; dropConnections disconnects the
// device; refuseAuth refuses CONNECTs; delayMs slows replies; DELETE /faults resets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { azureDevice, deviceClient, JSON_HEADERS, startTestHub } from '../helpers/emulator.js';

async function faults(api: string, body: unknown, method = 'POST'): Promise<{ faults: Record<string, unknown>; dropped?: number }> {
  const res = await fetch(`${api}/faults`, { method, headers: JSON_HEADERS, body: body === undefined ? undefined : JSON.stringify(body) });
  assert.equal(res.status, 200);
  return (await res.json()) as { faults: Record<string, unknown>; dropped?: number };
}

test('stopAcks keeps sendEvent pending until cleared', { timeout: 20_000 }, async () => {
  const h = await startTestHub();
  const client = await deviceClient(h.connectionString, h.ca);
  try {
    await client.open();
    await faults(h.api, { stopAcks: true });
    let done = false;
    const sending = client.sendEvent(new azureDevice.Message('{"n":1}')).then(() => (done = true));
    await sleep(800);
    assert.equal(done, false);
    assert.equal(h.hub.messages().length, 1); // received, just not acknowledged
    await faults(h.api, { stopAcks: false });
    await sending;
    assert.equal(done, true);
  } finally {
    await client.close();
    await h.close();
  }
});

test('dropConnections disconnects the device', { timeout: 20_000 }, async () => {
  const h = await startTestHub();
  const client = await deviceClient(h.connectionString, h.ca, { retry: false });
  try {
    await client.open();
    const disconnected = new Promise((resolve) => client.on('disconnect', resolve));
    const r = await faults(h.api, { dropConnections: true });
    assert.equal(r.dropped, 1);
    await disconnected;
    assert.equal(h.hub.isConnected(h.deviceId), false);
  } finally {
    await client.close();
    await h.close();
  }
});

test('refuseAuth and delayMs, then DELETE /faults restores service', { timeout: 20_000 }, async () => {
  const h = await startTestHub();
  const client = await deviceClient(h.connectionString, h.ca);
  try {
    await faults(h.api, { refuseAuth: true });
    await assert.rejects(client.open(), { name: 'UnauthorizedError' });
    const r = await faults(h.api, { refuseAuth: false, delayMs: 300 });
    assert.deepEqual(r.faults, { refuseAuth: false, stopAcks: false, delayMs: 300 });
    await client.open();
    const started = Date.now();
    await client.sendEvent(new azureDevice.Message('x'));
    assert.ok(Date.now() - started >= 250, 'the PUBACK was delayed');
    const reset = await faults(h.api, undefined, 'DELETE');
    assert.deepEqual(reset.faults, { refuseAuth: false, stopAcks: false, delayMs: 0 });

    const bad = await fetch(`${h.api}/faults`, { method: 'POST', headers: JSON_HEADERS, body: '{"stopAcks":"yes"}' });
    assert.equal(bad.status, 400);
    const body = (await bad.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'BadRequest');
    assert.match(body.error.message, /Expected true or false for stopAcks/);
  } finally {
    await client.close();
    await h.close();
  }
});
