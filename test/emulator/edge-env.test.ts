// IoT Edge mode: with the environment edgeEnv() returns, `ModuleClient.fromEnvironment(Mqtt)`
// fetches the trust bundle and signs its token through the emulator's workload socket, then
// connects over MQTT to the gateway host (which carries the emulator's port).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { azureDevice, azureMqtt, startTestHub } from '../helpers/emulator.js';
import { at, must } from '../helpers/at.js';

function workload(socketPath: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

test('ModuleClient.fromEnvironment connects through the workload API', { timeout: 20_000 }, async () => {
  const h = await startTestHub({ deviceId: 'edge-2' });
  const env = h.hub.edgeEnv('edge-2', 'percept');
  const workloadUri = must(env.IOTEDGE_WORKLOADURI, 'IOTEDGE_WORKLOADURI');
  assert.equal(env.IOTEDGE_AUTHSCHEME, 'sasToken');
  assert.equal(env.IOTEDGE_GATEWAYHOSTNAME, `localhost:${h.hub.mqttPort}`);
  assert.match(workloadUri, /^unix:\/\//);
  Object.assign(process.env, env);
  let client: import('azure-iot-device').ModuleClient | undefined;
  try {
    const socketPath = workloadUri.slice('unix://'.length);
    const bundle = await workload(socketPath, 'GET', '/trust-bundle?api-version=2018-06-28');
    assert.equal(bundle.json.certificate, h.ca);
    const wrongGen = await workload(socketPath, 'POST', '/modules/percept/genid/nope/sign?api-version=2018-06-28', {
      keyId: 'primary',
      algo: 'HMACSHA256',
      data: 'YQ==',
    });
    assert.equal(wrongGen.status, 404);

    client = await azureDevice.ModuleClient.fromEnvironment(azureMqtt.Mqtt);
    client.on('error', () => {});
    await client.open();
    assert.equal(h.hub.isConnected('edge-2', 'percept'), true);
    await client.sendOutputEvent('out', new azureDevice.Message('{"edge":true}'));
    const m = at(h.hub.messages('edge-2', 'percept'), 0);
    assert.deepEqual(m.body, { edge: true });
  } finally {
    for (const k of Object.keys(env)) delete process.env[k];
    await client?.close();
    await h.close();
  }
});
