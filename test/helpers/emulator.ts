// Starts a HubEmulator for a test: a temp state folder, free ports, one registered device.
// Also makes SDK device clients (SAS or X.509, MQTT or MQTT over WebSockets) that trust the
// emulator's CA, so tests need no cloud.
import https from 'node:https';
import { createRequire } from 'node:module';
import type net from 'node:net';
import tls from 'node:tls';
import { HubEmulator, type EmulatorLogger } from '../../src/emulator/index.js';
import { tempDir } from './paths.js';
import { at } from './at.js';

// azure-iot-device is CommonJS without named ESM exports
const require = createRequire(import.meta.url);
const device = require('azure-iot-device') as typeof import('azure-iot-device');
const mqtt = require('azure-iot-device-mqtt') as typeof import('azure-iot-device-mqtt');

/** What every write to the service API carries: it refuses other bodies (415). */
export const JSON_HEADERS = { 'content-type': 'application/json' } as const;

export interface TestHub {
  hub: HubEmulator;
  deviceId: string;
  connectionString: string;
  /** PEM of the emulator's CA, for `client.setOptions({ca})`. */
  ca: string;
  stateDir: string;
  /** Base URL of the service API. */
  api: string;
  close(): Promise<void>;
}

export async function startTestHub(
  opts: { deviceId?: string; moduleId?: string; stateDir?: string; logger?: EmulatorLogger; wsPort?: number | 'auto' } = {},
): Promise<TestHub> {
  const stateDir = opts.stateDir ?? tempDir('percept-hub-');
  // Tests account for every message of runs that last minutes (~40/s): keep them all.
  const hub = await HubEmulator.start({
    stateDir,
    mqttPort: 0,
    apiPort: 0,
    logger: opts.logger,
    maxMessages: 100_000,
    ...(opts.wsPort === undefined ? {} : { wsPort: opts.wsPort }),
  });
  const deviceId = opts.deviceId ?? 'test-device';
  const { connectionString } = hub.addDevice(deviceId, opts.moduleId);
  return {
    hub,
    deviceId,
    connectionString,
    ca: hub.caPem,
    stateDir,
    api: `http://127.0.0.1:${hub.apiPort}`,
    close: () => hub.close(),
  };
}

/** An SDK device client (Mqtt transport) configured to trust the emulator; not yet open. */
/** Reports `patch` on a device or module twin (the SDK types reported properties as any). */
export function reportTwin(twin: import('azure-iot-device').Twin, patch: object): Promise<void> {
  const reported = twin.properties.reported as { update(patch: object, done: (e?: Error) => void): void };
  return new Promise((resolve, reject) => reported.update(patch, (e?: Error) => (e ? reject(e) : resolve())));
}

export async function deviceClient(connectionString: string, ca: string, opts: { retry?: boolean } = {}): Promise<import('azure-iot-device').Client> {
  const client = device.Client.fromConnectionString(connectionString, mqtt.Mqtt);
  await client.setOptions({ ca });
  // no reconnection: a dropped connection surfaces as one 'disconnect' event
  if (opts.retry === false) client.setRetryPolicy({ shouldRetry: () => false, nextRetryTimeout: () => -1 });
  // the SDK emits 'error' for transport faults; a test asserts on 'disconnect' instead
  client.on('error', () => {});
  return client;
}

/**
 * An https agent that dials `port` whatever port the URL names. The SDK's MqttWs always dials
 * `wss://<HostName>:443/$iothub/websocket`; with this agent (its documented `mqtt.webSocketAgent`
 * option) SDK tests reach a WebSocket port picked at random, with no root and no fixed port.
 */
export class PortAgent extends https.Agent {
  readonly #port: number;
  constructor(port: number) {
    super({ keepAlive: false });
    this.#port = port;
  }
  override createConnection(options: tls.ConnectionOptions): net.Socket {
    return tls.connect({ ...options, port: this.#port });
  }
}

/**
 * An SDK client over MQTT over WebSockets to the hub's WebSocket port, not yet open. The host in
 * the connection string loses its port (MqttWs appends :443 to it); a SAS `sr` without the port
 * is accepted. `cert` and `key` authenticate an x509=true connection string.
 */
export async function wsDeviceClient(
  hub: HubEmulator,
  connectionString: string,
  opts: { cert?: string; key?: string; retry?: boolean } = {},
): Promise<import('azure-iot-device').Client> {
  if (hub.wsPort === null) throw new Error(`the test hub serves no WebSocket port (${hub.wsNote})`);
  const client = device.Client.fromConnectionString(connectionString.replace(`HostName=${hub.hostName};`, `HostName=${hub.host};`), mqtt.MqttWs);
  await client.setOptions({ ca: hub.caPem, mqtt: { webSocketAgent: new PortAgent(hub.wsPort) }, ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}) });
  if (opts.retry === false) client.setRetryPolicy({ shouldRetry: () => false, nextRetryTimeout: () => -1 });
  client.on('error', () => {});
  return client;
}

/** An SDK client (Mqtt transport) for an x509=true connection string; not yet open. */
export async function x509DeviceClient(connectionString: string, ca: string, cert?: string, key?: string): Promise<import('azure-iot-device').Client> {
  const client = device.Client.fromConnectionString(connectionString, mqtt.Mqtt);
  // an X.509 client without a certificate is what a device with a lost cert looks like
  if (cert !== undefined && key !== undefined) await client.setOptions({ ca, cert, key });
  else await client.setOptions({ ca });
  client.setRetryPolicy({ shouldRetry: () => false, nextRetryTimeout: () => -1 });
  client.on('error', () => {});
  return client;
}

function mqttString(s: string): Buffer {
  const b = Buffer.from(s);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

/** An MQTT 3.1.1 fixed header: the packet type byte and the remaining length. */
export function fixedHeader(typeByte: number, length: number): Buffer {
  const len: number[] = [];
  let n = length;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    len.push(byte);
  } while (n > 0);
  return Buffer.from([typeByte, ...len]);
}

/** A bare MQTT 3.1.1 CONNECT (clean session, keep-alive 60 s; no password when undefined). */
export function connectPacket(clientId: string, username: string, password: string | undefined): Buffer {
  const flags = password === undefined ? 0x82 : 0xc2; // username, [password,] clean session
  const body = Buffer.concat([
    mqttString('MQTT'),
    Buffer.from([4, flags, 0, 60]),
    mqttString(clientId),
    mqttString(username),
    ...(password === undefined ? [] : [mqttString(password)]),
  ]);
  return Buffer.concat([fixedHeader(0x10, body.length), body]);
}

/**
 * Sends a bare MQTT 3.1.1 CONNECT over TLS (with a client certificate when given, with no
 * password when `password` is undefined) and returns the CONNACK return code.
 */
export async function connack(
  port: number,
  ca: string,
  clientId: string,
  username: string,
  password: string | undefined,
  clientCert?: { cert: string; key: string },
): Promise<number> {
  const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ...clientCert });
  try {
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    socket.write(connectPacket(clientId, username, password));
    const reply = await new Promise<Buffer>((resolve, reject) => socket.once('data', resolve).once('error', reject));
    if (at(reply, 0) !== 0x20) throw new Error(`expected a CONNACK, got packet type 0x${at(reply, 0).toString(16)}`);
    return at(reply, 3);
  } finally {
    socket.destroy();
  }
}

/** What an SDK client subscribes to when a listener is added; the subscription is asynchronous. */
export const FILTERS = {
  desired: '$iothub/twin/PATCH/properties/desired/#',
  methods: '$iothub/methods/POST/#',
  c2d: (deviceId: string) => `devices/${deviceId}/messages/devicebound/#`,
  inputs: (deviceId: string, moduleId: string) => `devices/${deviceId}/modules/${moduleId}/inputs/#`,
} as const;

/**
 * Waits until the identity's connection listens on `filter`. IoT Hub does not queue desired
 * patches or method calls for a device that has not subscribed yet, and neither does the emulator.
 */
export async function waitForSubscription(hub: HubEmulator, filter: string, deviceId: string, moduleId?: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!hub.subscriptions(deviceId, moduleId).includes(filter)) {
    if (Date.now() > deadline) throw new Error(`${deviceId}${moduleId ? '/' + moduleId : ''} did not subscribe to ${filter} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export { device as azureDevice, mqtt as azureMqtt };
