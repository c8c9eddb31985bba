// The state folder: certificates, registry, twins and messages are made on the first start and
// reused on the next; ports.json names the listening ports while the emulator runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { HubEmulator } from '../../src/emulator/index.js';
import { azureDevice, deviceClient } from '../helpers/emulator.js';
import { tempDir } from '../helpers/paths.js';

test('certificates, registry and messages survive a restart; ports.json tracks the run', { timeout: 20_000 }, async () => {
  const stateDir = tempDir('percept-hub-state-');
  const first = await HubEmulator.start({ stateDir, mqttPort: 0, apiPort: 0, wsPort: 0 });
  let second: HubEmulator | undefined;
  try {
    assert.equal(first.caPath, path.join(stateDir, 'ca.pem'));
    const ca = fs.readFileSync(first.caPath, 'utf8');
    const server = new crypto.X509Certificate(fs.readFileSync(path.join(stateDir, 'server-cert.pem')));
    assert.ok(server.verify(new crypto.X509Certificate(ca).publicKey));
    assert.match(server.subjectAltName ?? '', /DNS:localhost/);
    assert.match(server.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(stateDir, 'ports.json'), 'utf8')), {
      mqtt: first.mqttPort,
      api: first.apiPort,
      ws: first.wsPort,
      files: first.filesPort,
      pid: process.pid,
      host: 'localhost',
    });
    assert.ok(first.wsPort! > 0);
    const { key } = first.addDevice('cam-1');
    const x509 = first.addX509Device('cam-x');
    const client = await deviceClient(first.connectionString('cam-1'), first.caPem);
    await client.open();
    await client.sendEvent(new azureDevice.Message('{"before":"restart"}'));
    await client.close();
    await first.close();
    assert.equal(fs.existsSync(path.join(stateDir, 'ports.json')), false);

    second = await HubEmulator.start({ stateDir, mqttPort: 0, apiPort: 0 });
    assert.equal(fs.readFileSync(second.caPath, 'utf8'), ca, 'the CA is reused');
    assert.equal(second.addDevice('cam-1').key, key, 'the device and its key are kept');
    assert.deepEqual(second.addX509Device('cam-x').files, x509.files, 'the X.509 device keeps its certificate');
    assert.equal(second.wsPort, null, 'WebSockets are off unless asked for');
    assert.deepEqual(
      second.messages('cam-1').map((m) => [m.seq, m.body]),
      [[1, { before: 'restart' }]],
    );
    // the new port is in the new connection string, and the old CA still verifies the server
    const again = await deviceClient(second.connectionString('cam-1'), ca);
    await again.open();
    await again.sendEvent(new azureDevice.Message('{"after":"restart"}'));
    await again.close();
    assert.deepEqual(
      second.messages('cam-1').map((m) => m.seq),
      [1, 2],
    );
  } finally {
    await first.close();
    await second?.close();
  }
});
