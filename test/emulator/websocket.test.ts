// MQTT over WebSockets with the SDK's own MqttWs transport: telemetry, twin and direct methods
// work, X.509 and SAS are checked as on the TLS port, and only `/$iothub/websocket` with the
// `mqtt` subprotocol is served. `auto` takes port 443 only when it can be bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import WebSocket from 'ws';
import { HubEmulator, WEBSOCKET_PATH, makeCertificate } from '../../src/emulator/index.js';
import { azureDevice, FILTERS, startTestHub, waitForSubscription, wsDeviceClient, reportTwin } from '../helpers/emulator.js';
import { tempDir } from '../helpers/paths.js';
import { must, at } from '../helpers/at.js';

type Twin = import('azure-iot-device').Twin;

test('telemetry, twin and methods over MQTT over WebSockets', { timeout: 30_000 }, async () => {
  const h = await startTestHub({ wsPort: 0 });
  const client = await wsDeviceClient(h.hub, h.connectionString);
  try {
    await client.open();
    assert.equal(h.hub.isConnected(h.deviceId), true);
    const msg = new azureDevice.Message('{"over":"wss"}');
    msg.properties.add('schema', 'ws/1');
    await client.sendEvent(msg);
    const got = at(await h.hub.waitForMessages(1, { deviceId: h.deviceId }), 0);
    assert.deepEqual([got.body, got.properties.schema], [{ over: 'wss' }, 'ws/1']);

    const twin: Twin = await client.getTwin();
    await reportTwin(twin, { via: 'ws' });
    assert.equal(h.hub.twin(h.deviceId).reported.via, 'ws');
    const pushed = new Promise<Record<string, unknown>>((resolve) =>
      twin.on('properties.desired', (d: Record<string, unknown>) => d.fps !== undefined && resolve(d)),
    );
    await waitForSubscription(h.hub, FILTERS.desired, h.deviceId);
    h.hub.patchDesired(h.deviceId, { fps: 4 });
    assert.equal((await pushed).fps, 4);

    client.onDeviceMethod('ping', (req, res) => res.send(200, { pong: req.payload as unknown }, () => {}));
    await waitForSubscription(h.hub, FILTERS.methods, h.deviceId);
    assert.deepEqual(await h.hub.invokeMethod(h.deviceId, 'ping', { n: 1 }, { timeoutSeconds: 5 }), { status: 200, payload: { pong: { n: 1 } } });
  } finally {
    await client.close();
    await h.close();
  }
});

test('X.509 and SAS are checked over WebSockets; other paths and subprotocols are refused', { timeout: 30_000 }, async () => {
  const h = await startTestHub({ wsPort: 0 });
  try {
    const made = h.hub.addX509Device('ws-x');
    const cert = fs.readFileSync(made.files!.certPath, 'utf8');
    const key = fs.readFileSync(made.files!.keyPath, 'utf8');
    const x509 = await wsDeviceClient(h.hub, made.connectionString, { cert, key });
    await x509.open();
    await x509.sendEvent(new azureDevice.Message('x509 over wss'));
    await x509.close();
    assert.deepEqual(
      h.hub.messages('ws-x').map((m) => m.body),
      ['x509 over wss'],
    );

    const stranger = makeCertificate('ws-x');
    const wrongCert = await wsDeviceClient(h.hub, made.connectionString, { cert: stranger.certPem, key: stranger.keyPem, retry: false });
    await assert.rejects(wrongCert.open(), { name: 'UnauthorizedError' });
    await wrongCert.close();
    const key64 = must(h.connectionString.split('SharedAccessKey=')[1], 'the shared access key');
    const wrongKey = await wsDeviceClient(h.hub, h.connectionString.replace(key64, Buffer.alloc(32, 9).toString('base64')), { retry: false });
    await assert.rejects(wrongKey.open(), { name: 'UnauthorizedError' });
    await wrongKey.close();

    // what a plain WebSocket client gets: the upgrade status, or the negotiated subprotocol
    const dial = (path: string, protocols: string[]) =>
      new Promise<number | string>((resolve) => {
        const ws = new WebSocket(`wss://localhost:${h.hub.wsPort}${path}`, protocols, { ca: h.ca });
        ws.on('open', () => {
          resolve(ws.protocol);
          ws.close();
        });
        ws.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.on('error', () => {});
      });
    assert.equal(await dial(WEBSOCKET_PATH, ['mqtt']), 'mqtt');
    assert.equal(await dial('/mqtt', ['mqtt']), 404);
    assert.equal(await dial(WEBSOCKET_PATH, ['wamp']), 400);
  } finally {
    await h.close();
  }
});

test('wsPort auto serves 443 only when it can be bound, and says why not', { timeout: 20_000 }, async (t) => {
  const stateDir = tempDir('percept-hub-ws-');
  if (process.getuid?.() !== 0) {
    const hub = await HubEmulator.start({ stateDir, mqttPort: 0, apiPort: 0, wsPort: 'auto' });
    try {
      // an unprivileged process may still bind 443 where the sysctl allows low ports
      if (hub.wsPort !== 443) assert.match(hub.wsNote, /^off: port 443 (needs root|on 127\.0\.0\.1 is in use)/);
    } finally {
      await hub.close();
    }
    return;
  }
  // as root: hold 443 ourselves, so auto must stand back, then free it, so auto must take it
  const blocker = net.createServer();
  const held = await new Promise<boolean>((resolve) => {
    blocker.once('error', () => resolve(false));
    blocker.listen(443, '127.0.0.1', () => resolve(true));
  });
  if (!held) return t.skip('port 443 on 127.0.0.1 is held by another process (another test or service), so auto cannot be checked');
  let hub: HubEmulator | undefined;
  try {
    hub = await HubEmulator.start({ stateDir, mqttPort: 0, apiPort: 0, wsPort: 'auto' });
    assert.equal(hub.wsPort, null);
    assert.match(hub.wsNote, /^off: port 443 on 127\.0\.0\.1 is in use/);
    assert.equal((JSON.parse(fs.readFileSync(`${stateDir}/ports.json`, 'utf8')) as { ws: number | null }).ws, null);
    await hub.close();
    await new Promise((resolve) => blocker.close(resolve));
    hub = await HubEmulator.start({ stateDir, mqttPort: 0, apiPort: 0, wsPort: 'auto' });
    if (hub.wsPort === null) return t.skip(`443 was taken by another process as soon as it was freed (${hub.wsNote})`);
    assert.equal(hub.wsPort, 443);
    assert.equal((JSON.parse(fs.readFileSync(`${stateDir}/ports.json`, 'utf8')) as { ws: number | null }).ws, 443);
  } finally {
    if (blocker.listening) blocker.close();
    await hub?.close();
  }
});
