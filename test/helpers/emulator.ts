// Starts a HubEmulator for a test: a temp state folder, free ports, one registered device.
// Also makes SDK device clients that trust the emulator's CA, so tests need no cloud.
import { createRequire } from 'node:module';
import { HubEmulator, type EmulatorLogger } from '../../src/emulator/index.js';
import { tempDir } from './paths.js';

// azure-iot-device is CommonJS without named ESM exports
const require = createRequire(import.meta.url);
const device = require('azure-iot-device') as typeof import('azure-iot-device');
const mqtt = require('azure-iot-device-mqtt') as typeof import('azure-iot-device-mqtt');

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
  opts: { deviceId?: string; moduleId?: string; stateDir?: string; logger?: EmulatorLogger } = {},
): Promise<TestHub> {
  const stateDir = opts.stateDir ?? tempDir('percept-hub-');
  const hub = await HubEmulator.start({ stateDir, mqttPort: 0, apiPort: 0, logger: opts.logger });
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
export async function deviceClient(connectionString: string, ca: string, opts: { retry?: boolean } = {}): Promise<import('azure-iot-device').Client> {
  const client = device.Client.fromConnectionString(connectionString, mqtt.Mqtt);
  await client.setOptions({ ca });
  // no reconnection: a dropped connection surfaces as one 'disconnect' event
  if (opts.retry === false) client.setRetryPolicy({ shouldRetry: () => false, nextRetryTimeout: () => -1 });
  // the SDK emits 'error' for transport faults; a test asserts on 'disconnect' instead
  client.on('error', () => {});
  return client;
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
