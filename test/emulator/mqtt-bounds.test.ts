// What a connection may send is bounded, over raw TLS on loopback: a packet announcing more than
// IoT Hub's 256 KB plus topic and headers, a first packet that is not a small CONNECT, or too many
// bytes before authenticating close the connection at once (not at the CONNECT deadline), and only
// MQTT_BOUNDS.unauthenticatedConnections may wait to authenticate. The real SDK is unaffected.
import tls from 'node:tls';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSas, type EmulatorLogger } from '../../src/emulator/index.js';
import { MQTT_BOUNDS } from '../../src/emulator/mqtt-guard.js';
import { azureDevice, connectPacket, deviceClient, fixedHeader, startTestHub, type TestHub } from '../helpers/emulator.js';
import { must, at } from '../helpers/at.js';

/** Well under the CONNECT deadline: a close this soon is the guard's, not the timeout's. */
const PROMPTLY_MS = MQTT_BOUNDS.connectTimeoutMs / 2;

function recordingLogger(): { logger: EmulatorLogger; lines: string[] } {
  const lines: string[] = [];
  const keep = (obj: object, msg?: string) => void lines.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
  return { logger: { debug: keep, info: keep, warn: keep, error: keep }, lines };
}

async function open(h: TestHub): Promise<tls.TLSSocket> {
  const s = tls.connect({ host: '127.0.0.1', port: h.hub.mqttPort, ca: h.ca, servername: 'localhost' });
  s.on('error', () => {});
  await new Promise<void>((resolve, reject) => s.once('secureConnect', resolve).once('close', () => reject(new Error('closed during the handshake'))));
  return s;
}

/** True when the server closes the socket within `ms`. */
function closesWithin(s: tls.TLSSocket, ms: number): Promise<boolean> {
  if (s.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    s.resume(); // read, so the end is seen
    s.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

function publish(topic: string, payloadBytes: number): Buffer {
  const t = Buffer.from(topic);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(t.length);
  return Buffer.concat([fixedHeader(0x30, 2 + t.length + payloadBytes), len, t, Buffer.alloc(payloadBytes, 0x61)]);
}

function subscribe(packetId: number, filter: string): Buffer {
  const f = Buffer.from(filter);
  const head = Buffer.alloc(4);
  head.writeUInt16BE(packetId, 0);
  head.writeUInt16BE(f.length, 2);
  return Buffer.concat([fixedHeader(0x82, 4 + f.length + 1), head, f, Buffer.from([1])]);
}

test('oversized packets and pre-CONNECT bytes close the connection at once', { timeout: 60_000 }, async () => {
  const { logger, lines } = recordingLogger();
  const h = await startTestHub({ logger });
  const key = must(h.connectionString.split('SharedAccessKey=')[1], 'the shared access key');
  const user = `${h.hub.hostName}/${h.deviceId}/?api-version=2021-04-12`;
  const sas = () => createSas(h.hub.hostName, { deviceId: h.deviceId, moduleId: null }, key, Math.floor(Date.now() / 1000) + 600);
  const cases: Array<[string, (s: tls.TLSSocket) => void, RegExp]> = [
    ['a CONNECT announcing 256 MB', (s) => s.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f])), /CONNECT announces 268435455 bytes/],
    [
      'a CONNECT announcing 200 KB, with 60 KB sent',
      (s) => s.write(Buffer.concat([fixedHeader(0x10, 200 * 1024), Buffer.alloc(60 * 1024, 0x41)])),
      /CONNECT announces 204800 bytes/,
    ],
    ['a PUBLISH before CONNECT', (s) => s.write(publish(`devices/${h.deviceId}/messages/events/`, 10)), /first packet is type 3, not CONNECT/],
    ['garbage before CONNECT', (s) => s.write(Buffer.alloc(60 * 1024, 0xff)), /first packet is type 15, not CONNECT/],
    ['a malformed length', (s) => s.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01])), /malformed remaining length/],
  ];
  try {
    for (const [what, send, reason] of cases) {
      const s = await open(h);
      send(s);
      assert.equal(await closesWithin(s, PROMPTLY_MS), true, `${what}: not closed`);
      assert.ok(
        lines.some((l) => reason.test(l)),
        `${what}: no log line matching ${reason}`,
      );
    }

    // a CONNECT still waiting for its answer (delayed by fault injection) may not be followed by
    // more than the pre-authentication budget
    await fetch(`${h.api}/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"delayMs":3000}' });
    const eager = await open(h);
    eager.write(connectPacket(h.deviceId, user, sas()));
    for (let i = 0; i < 3; i++) eager.write(subscribe(i + 1, 'x'.repeat(30 * 1024)));
    assert.equal(await closesWithin(eager, 2500), true, 'pipelined bytes before CONNACK: not closed');
    assert.ok(lines.some((l) => /over 65536 bytes sent before authenticating/.test(l)));
    await fetch(`${h.api}/faults`, { method: 'DELETE' });

    // once authenticated, a packet may announce up to the bound, not beyond
    const device = await open(h);
    device.write(connectPacket(h.deviceId, user, sas()));
    const ack = await new Promise<Buffer>((resolve) => device.once('data', resolve));
    assert.deepEqual([...ack], [0x20, 2, 0, 0], 'CONNACK accepted');
    device.write(Buffer.concat([fixedHeader(0x32, MQTT_BOUNDS.packetBytes + 1), Buffer.alloc(1024)]));
    assert.equal(await closesWithin(device, PROMPTLY_MS), true, 'an oversized PUBLISH from a device: not closed');
    assert.ok(lines.some((l) => new RegExp(`packet type 3 announces ${MQTT_BOUNDS.packetBytes + 1} bytes`).test(l)));
  } finally {
    await h.close();
  }
});

test('connections waiting to authenticate are capped; a real device still connects and sends 250 KB', { timeout: 60_000 }, async () => {
  const h = await startTestHub();
  const waiting: tls.TLSSocket[] = [];
  try {
    for (let i = 0; i < MQTT_BOUNDS.unauthenticatedConnections; i++) waiting.push(await open(h));
    const extra = tls.connect({ host: '127.0.0.1', port: h.hub.mqttPort, ca: h.ca, servername: 'localhost' });
    extra.on('error', () => {});
    assert.equal(await closesWithin(extra, PROMPTLY_MS), true, `connection ${MQTT_BOUNDS.unauthenticatedConnections + 1} was not refused`);
    assert.equal(waiting.filter((s) => s.destroyed).length, 0, 'the first ones are kept until their deadline');

    for (const s of waiting) s.destroy();
    const client = await deviceClient(h.connectionString, h.ca, { retry: false });
    try {
      await client.open();
      const body = Buffer.alloc(250 * 1024, 0x62);
      const m = new azureDevice.Message(body);
      m.properties.add('kind', 'large');
      await client.sendEvent(m);
      const got = at(await h.hub.waitForMessages(1, { deviceId: h.deviceId }), 0);
      assert.equal(Buffer.from(got.bodyBase64, 'base64').length, body.length);
      assert.equal(h.hub.isConnected(h.deviceId), true);
    } finally {
      await client.close();
    }
  } finally {
    for (const s of waiting) s.destroy();
    await h.close();
  }
});
