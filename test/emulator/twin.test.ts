// Twins with the real SDK: get returns both sections with `$version`; a reported patch bumps
// the reported version; a desired patch through the HTTP API is pushed with its `$version`;
// a section over 32 KB is refused without change; twins survive a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HubEmulator } from '../../src/emulator/index.js';
import { deviceClient, FILTERS, JSON_HEADERS, startTestHub, waitForSubscription, reportTwin } from '../helpers/emulator.js';

type Twin = import('azure-iot-device').Twin;

function report(twin: Twin, patch: object): Promise<void> {
  return reportTwin(twin, patch);
}

test('twin get, reported patch, desired push, size limit and persistence', { timeout: 20_000 }, async () => {
  const h = await startTestHub();
  const client = await deviceClient(h.connectionString, h.ca);
  let restarted: HubEmulator | undefined;
  try {
    await client.open();
    const twin = await client.getTwin();
    assert.equal(twin.properties.desired.$version, 1);
    assert.equal(twin.properties.reported.$version, 1);

    await report(twin, { firmware: '1.2.3', pipeline: { fps: 12, model: 'yolox' } });
    await report(twin, { pipeline: { fps: null } });
    let doc = h.hub.twin(h.deviceId);
    assert.equal(doc.reported.$version, 3);
    assert.deepEqual(doc.reported, { firmware: '1.2.3', pipeline: { model: 'yolox' }, $version: 3 });

    // desired patch from the service side is pushed to the device with its version
    const pushed = new Promise<Record<string, unknown>>((resolve) =>
      twin.on('properties.desired', (delta: Record<string, unknown>) => {
        if (delta.interval !== undefined) resolve(delta);
      }),
    );
    await waitForSubscription(h.hub, FILTERS.desired, h.deviceId);
    const res = await fetch(`${h.api}/devices/${h.deviceId}/twin/desired`, {
      method: 'PATCH',
      headers: JSON_HEADERS,
      body: JSON.stringify({ interval: 5, sources: { cam0: { fps: 10 } } }),
    });
    assert.equal(res.status, 200);
    const delta = await pushed;
    assert.equal(delta.$version, 2);
    assert.equal(delta.interval, 5);
    doc = (await (await fetch(`${h.api}/devices/${h.deviceId}/twin`)).json()) as typeof doc;
    assert.deepEqual(doc.desired, { interval: 5, sources: { cam0: { fps: 10 } }, $version: 2 });

    // invalid desired patches are refused with the error shape
    const bad = await fetch(`${h.api}/devices/${h.deviceId}/twin/desired`, { method: 'PATCH', headers: JSON_HEADERS, body: '[1,2]' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'BadRequest');
    const badKey = await fetch(`${h.api}/devices/${h.deviceId}/twin/desired`, { method: 'PATCH', headers: JSON_HEADERS, body: '{"a.b":1}' });
    assert.equal(badKey.status, 400);

    // over 32 KB: the device gets an error, the twin is unchanged, the connection stays
    await assert.rejects(report(twin, { blob: 'x'.repeat(33 * 1024) }), /32768/);
    assert.equal(h.hub.twin(h.deviceId).reported.$version, 3);
    const tooBig = await fetch(`${h.api}/devices/${h.deviceId}/twin/desired`, {
      method: 'PATCH',
      headers: JSON_HEADERS,
      body: JSON.stringify({ blob: 'x'.repeat(33 * 1024) }),
    });
    assert.equal(tooBig.status, 413);
    await report(twin, { after: true });
    assert.equal(h.hub.twin(h.deviceId).reported.$version, 4);

    await client.close();
    await h.close();
    restarted = await HubEmulator.start({ stateDir: h.stateDir, mqttPort: 0, apiPort: 0 });
    assert.deepEqual(restarted.twin(h.deviceId).desired.$version, 2);
    assert.equal(restarted.twin(h.deviceId).reported.after, true);
  } finally {
    await client.close();
    await h.close();
    await restarted?.close();
  }
});

test('a desired patch for an unknown device is a 404', { timeout: 10_000 }, async () => {
  const h = await startTestHub();
  try {
    const res = await fetch(`${h.api}/devices/nobody/twin/desired`, { method: 'PATCH', headers: JSON_HEADERS, body: '{"a":1}' });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'DeviceNotFound');
  } finally {
    await h.close();
  }
});
