// A module identity with the real SDK's ModuleClient (connection string with ModuleId):
// telemetry and output events carry the module id, the module has its own twin, methods and
// input messages reach it through the module routes of the HTTP API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { azureDevice, azureMqtt, FILTERS, JSON_HEADERS, startTestHub, waitForSubscription, reportTwin } from '../helpers/emulator.js';

type Message = import('azure-iot-device').Message;

test('ModuleClient with a module identity: telemetry, twin, methods, inputs', { timeout: 20_000 }, async () => {
  const h = await startTestHub({ deviceId: 'edge-1', moduleId: 'percept' });
  assert.match(h.connectionString, /;ModuleId=percept;/);
  const client = azureDevice.ModuleClient.fromConnectionString(h.connectionString, azureMqtt.Mqtt);
  try {
    await client.setOptions({ ca: h.ca });
    client.on('error', () => {});
    await client.open();
    assert.equal(h.hub.isConnected('edge-1', 'percept'), true);
    await client.sendEvent(new azureDevice.Message('{"from":"module"}'));
    await client.sendOutputEvent('detections', new azureDevice.Message('{"out":1}'));
    const listed = (await (await fetch(`${h.api}/devices/edge-1/modules/percept/messages`)).json()) as Array<{
      moduleId: string;
      body: unknown;
      systemProperties: Record<string, string>;
    }>;
    assert.deepEqual(
      listed.map((m) => [m.moduleId, m.body, m.systemProperties.outputName]),
      [
        ['percept', { from: 'module' }, undefined],
        ['percept', { out: 1 }, 'detections'],
      ],
    );

    const twin = await client.getTwin();
    await reportTwin(twin, { model: 'yolox' });
    assert.equal(h.hub.twin('edge-1', 'percept').reported.model, 'yolox');
    assert.equal(h.hub.twin('edge-1').reported.model, undefined, 'the device twin is separate');
    const pushed = new Promise<Record<string, unknown>>((resolve) =>
      twin.on('properties.desired', (d: Record<string, unknown>) => d.threshold !== undefined && resolve(d)),
    );
    await waitForSubscription(h.hub, FILTERS.desired, 'edge-1', 'percept');
    await fetch(`${h.api}/devices/edge-1/modules/percept/twin/desired`, { method: 'PATCH', headers: JSON_HEADERS, body: '{"threshold":0.5}' });
    assert.equal((await pushed).$version, 2);

    client.onMethod('status', (_req, res) => res?.send(200, { ok: true }, () => {}));
    await waitForSubscription(h.hub, FILTERS.methods, 'edge-1', 'percept');
    const call = await fetch(`${h.api}/devices/edge-1/modules/percept/methods/status`, { method: 'POST', headers: JSON_HEADERS, body: '{}' });
    assert.deepEqual(await call.json(), { status: 200, payload: { ok: true } });
    // the device identity itself is not connected
    assert.equal((await fetch(`${h.api}/devices/edge-1/methods/status`, { method: 'POST', headers: JSON_HEADERS, body: '{}' })).status, 404);

    const input = new Promise<[string, Message]>((resolve) => client.on('inputMessage', (name: string, m: Message) => resolve([name, m])));
    const sent = await fetch(`${h.api}/devices/edge-1/modules/percept/inputs/frames`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ body: { frame: 1 }, properties: { camera: 'cam0' } }),
    });
    assert.equal(sent.status, 202);
    const [name, m] = await input;
    assert.equal(name, 'frames');
    assert.deepEqual(JSON.parse((m.data as Buffer).toString()), { frame: 1 });
    assert.equal(m.properties.getValue('camera'), 'cam0');
  } finally {
    await client.close();
    await h.close();
  }
});
