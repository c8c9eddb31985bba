// Direct methods with the real SDK: a call through the HTTP API is answered by the device;
// an offline device is a 404 at once; a device that does not answer is a 504 at the timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmulatorError } from '../../src/emulator/index.js';
import { deviceClient, FILTERS, JSON_HEADERS, startTestHub, waitForSubscription } from '../helpers/emulator.js';

test('a method invoked through the API is answered by the device', { timeout: 20_000 }, async () => {
  const h = await startTestHub();
  const client = await deviceClient(h.connectionString, h.ca);
  try {
    await client.open();
    client.onDeviceMethod('reconfigure', (req, res) => {
      res.send(200, { applied: req.payload as unknown }, () => {});
    });
    await waitForSubscription(h.hub, FILTERS.methods, h.deviceId);
    const res = await fetch(`${h.api}/devices/${h.deviceId}/methods/reconfigure`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ payload: { fps: 5 }, timeoutSeconds: 5 }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 200, payload: { applied: { fps: 5 } } });

    // the device's own status is passed through
    client.onDeviceMethod('fail', (_req, res) => res.send(500, { error: 'nope' }, () => {}));
    assert.deepEqual(await h.hub.invokeMethod(h.deviceId, 'fail'), { status: 500, payload: { error: 'nope' } });

    // payloads over 128 KB are refused before they reach the device
    const big = await fetch(`${h.api}/devices/${h.deviceId}/methods/reconfigure`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ payload: 'x'.repeat(129 * 1024) }),
    });
    assert.equal(big.status, 413);

    // a response over 128 KB fails the call (502) and the hub drops the offending connection
    client.onDeviceMethod('huge', (_req, res) => res.send(200, 'x'.repeat(129 * 1024), () => {}));
    const huge = await fetch(`${h.api}/devices/${h.deviceId}/methods/huge`, { method: 'POST', headers: JSON_HEADERS, body: '{}' });
    assert.equal(huge.status, 502);
    assert.equal(((await huge.json()) as { error: { code: string } }).error.code, 'DeviceResponseTooLarge');
  } finally {
    await client.close();
    await h.close();
  }
});

test('a method to an offline device is a 404 DeviceNotOnline', { timeout: 10_000 }, async () => {
  const h = await startTestHub();
  try {
    const res = await fetch(`${h.api}/devices/${h.deviceId}/methods/ping`, { method: 'POST', headers: JSON_HEADERS, body: '{}' });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'DeviceNotOnline');
    await assert.rejects(h.hub.invokeMethod(h.deviceId, 'ping'), (e) => EmulatorError.is(e, 'DeviceNotOnline'));
  } finally {
    await h.close();
  }
});

test('a method the device does not answer is a 504 at the timeout', { timeout: 10_000 }, async () => {
  const h = await startTestHub();
  const client = await deviceClient(h.connectionString, h.ca);
  try {
    await client.open();
    client.onDeviceMethod('slow', () => {
      /* never answers */
    });
    await waitForSubscription(h.hub, FILTERS.methods, h.deviceId);
    const started = Date.now();
    const res = await fetch(`${h.api}/devices/${h.deviceId}/methods/slow`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ payload: null, timeoutSeconds: 0.5 }),
    });
    const elapsed = Date.now() - started;
    assert.equal(res.status, 504);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'GatewayTimeout');
    assert.ok(elapsed >= 450 && elapsed < 3000, `timed out after ${elapsed} ms`);

    const bad = await fetch(`${h.api}/devices/${h.deviceId}/methods/slow`, { method: 'POST', headers: JSON_HEADERS, body: '{"timeoutSeconds":"soon"}' });
    assert.equal(bad.status, 400);
  } finally {
    await client.close();
    await h.close();
  }
});
