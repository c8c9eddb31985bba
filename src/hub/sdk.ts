// Loads the Azure IoT device SDK (CommonJS) and adds the one thing its MQTT transports lack:
// an answer (404) to direct methods that have no handler, instead of letting the caller wait
// for the hub's 504 timeout.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const device = require('azure-iot-device') as typeof import('azure-iot-device');
const mqttPkg = require('azure-iot-device-mqtt') as typeof import('azure-iot-device-mqtt');

type MethodMessage = { methods: { methodName: string }; requestId: string };
type Responder = { sendMethodResponse(r: { requestId: string; status: number; payload: unknown }, done: (e?: Error) => void): void };

type Emitting = { emit(ev: string | symbol, ...a: unknown[]): boolean; listenerCount(ev: string | symbol): number };
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- TypeScript requires any[] for mixin constructors
type Ctor = new (...args: any[]) => Emitting;

function answersUnknownMethods<T extends Ctor>(Base: T): T {
  return class extends Base {
    override emit(ev: string | symbol, ...args: unknown[]): boolean {
      if (typeof ev === 'string' && ev.startsWith('method_') && this.listenerCount(ev) === 0) {
        const m = args[0] as MethodMessage;
        const payload = {
          error: {
            code: 'ERR_UNKNOWN_METHOD',
            message: `no method '${m.methods.methodName}'; methods: getStatus, snapshot, restartPipeline, setLogLevel, attest`,
          },
        };
        (this as unknown as Responder).sendMethodResponse({ requestId: m.requestId, status: 404, payload }, () => undefined);
        return true;
      }
      return super.emit(ev, ...args);
    }
  };
}

export const Mqtt = answersUnknownMethods(mqttPkg.Mqtt as unknown as Ctor) as unknown as typeof mqttPkg.Mqtt;
export const MqttWs = answersUnknownMethods(mqttPkg.MqttWs as unknown as Ctor) as unknown as typeof mqttPkg.MqttWs;

export type Client = import('azure-iot-device').Client;
export type ModuleClient = import('azure-iot-device').ModuleClient;
export type Twin = import('azure-iot-device').Twin;
export type DeviceMethodRequest = import('azure-iot-device').DeviceMethodRequest;
export type DeviceMethodResponse = import('azure-iot-device').DeviceMethodResponse;

/** What the MQTT layer said about a connection, as structured codes (the SDK drops them). */
export interface TransportFact {
  /** Socket or TLS error code: ECONNREFUSED, ECONNRESET, CERT_HAS_EXPIRED, ... */
  errno?: string;
  /** CONNACK return code of a refused CONNECT: 3 server unavailable, 4 bad credentials, 5 not authorized. */
  connack?: number;
}

// The SDK translates errors into classes whose names can mislead (a refused TCP port arrives as
// UnauthorizedError) and keeps no code. The transport accepts its MQTT base as a second argument
// (SRS_NODE_DEVICE_MQTT_18_025); handing it one whose mqtt.js client we listen to gives retry
// decisions the real codes. Both packages are resolved from the transport's own location.
const baseRequire = createRequire(require.resolve('azure-iot-device-mqtt'));
const { MqttBase } = baseRequire('azure-iot-mqtt-base') as { MqttBase: new (provider: unknown) => unknown };
/** The mqtt.js client under a transport: `end(true)` closes its socket without waiting for PUBACKs. */
export type MqttJsClient = { on(ev: 'error', fn: (e: { code?: unknown }) => void): unknown; end(force?: boolean): unknown };
const mqttJs = createRequire(baseRequire.resolve('azure-iot-mqtt-base'))('mqtt') as { connect(url: string, opts: unknown): MqttJsClient };

/**
 * A transport class (for `Client.fromConnectionString`) that reports every error code it sees,
 * and hands over each mqtt.js client it opens (the SDK's own close waits for acknowledgements
 * that a silent hub never sends, leaving sockets and timers behind).
 */
export function observedTransport(
  kind: 'mqtt' | 'mqttws',
  onFact: (f: TransportFact) => void,
  onClient: (c: MqttJsClient) => void = () => undefined,
): typeof mqttPkg.Mqtt {
  const provider = {
    connect(url: string, opts: unknown): MqttJsClient {
      const c = mqttJs.connect(url, opts);
      onClient(c);
      c.on('error', (e) => {
        if (typeof e.code === 'number') onFact({ connack: e.code });
        else if (typeof e.code === 'string') onFact({ errno: e.code });
      });
      return c;
    },
  };
  const Base = (kind === 'mqttws' ? MqttWs : Mqtt) as unknown as new (auth: unknown, base: unknown) => object;
  return class extends Base {
    constructor(auth: unknown) {
      super(auth, new MqttBase(provider));
    }
  } as unknown as typeof mqttPkg.Mqtt;
}
