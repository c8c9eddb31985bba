// The hub's behaviour behind the MQTT front end: telemetry intake with IoT Hub's size rule,
// twin requests, method answers, and the service side (desired patches, method calls,
// cloud-to-device and module input messages, queued until the device subscribes).
import crypto from 'node:crypto';
import type { Broker, BrokerHandler, Session } from './broker.js';
import { EmulatorError } from './errors.js';
import { MethodCalls, methodTimeout, type MethodResult } from './methods.js';
import type { Credential, Registry } from './registry.js';
import { toReceived, type MessageStore } from './store.js';
import {
  FILTER,
  c2dFilter,
  c2dTopic,
  desiredTopic,
  formatBag,
  inputFilter,
  inputTopic,
  methodRequestTopic,
  parseBag,
  splitProperties,
  twinResponseTopic,
  type Inbound,
} from './topics.js';
import type { TwinDocument, TwinStore } from './twin.js';
import { identityKey, LIMITS, type EmulatorLogger, type Identity } from './types.js';
import * as v from './validate.js';

/** A cloud-to-device (or module input) message as the service sends it. */
export interface CloudMessage {
  /** JSON value (sent serialized) or string (sent as UTF-8); ignored when bodyBase64 is set. */
  body?: unknown;
  bodyBase64?: string;
  properties?: Record<string, string>;
  messageId?: string;
  correlationId?: string;
  contentType?: string;
  contentEncoding?: string;
}

export function parseCloudMessage(value: unknown): CloudMessage {
  const o = v.object(value, 'the message');
  v.onlyKeys(o, ['body', 'bodyBase64', 'properties', 'messageId', 'correlationId', 'contentType', 'contentEncoding'], 'the message');
  return {
    body: o.body,
    bodyBase64: v.optionalString(o.bodyBase64, 'bodyBase64'),
    properties: v.stringRecord(o.properties, 'properties'),
    messageId: v.optionalString(o.messageId, 'messageId'),
    correlationId: v.optionalString(o.correlationId, 'correlationId'),
    contentType: v.optionalString(o.contentType, 'contentType'),
    contentEncoding: v.optionalString(o.contentEncoding, 'contentEncoding'),
  };
}

interface Queued {
  filter: string;
  topic: string;
  payload: Buffer;
}

const METHOD_NAME = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]{1,100}$/;

/** IoT Hub's error body on twin responses; the SDK fails the request when it has `errorCode`. */
function twinError(status: number, message: string): string {
  const errorCode = status === 413 ? 413002 : 400004; // MessageTooLarge, ArgumentInvalid
  return JSON.stringify({ errorCode, message, timestampUtc: new Date().toISOString() });
}

function bagBytes(pairs: Array<[string, string]>): number {
  return pairs.reduce((n, [k, val]) => n + Buffer.byteLength(k) + Buffer.byteLength(val), 0);
}

export class HubCore implements BrokerHandler {
  broker: Broker | null = null;
  readonly methods = new MethodCalls();
  #registry: Registry;
  #twins: TwinStore;
  #store: MessageStore;
  #log: EmulatorLogger;
  #queues = new Map<string, Queued[]>();

  constructor(registry: Registry, twins: TwinStore, store: MessageStore, log: EmulatorLogger) {
    this.#registry = registry;
    this.#twins = twins;
    this.#store = store;
    this.#log = log;
  }

  credentialOf(id: Identity): Credential | null {
    return this.#registry.credential(id);
  }

  certificateAuthorities(): crypto.X509Certificate[] {
    // a CA that no longer parses is skipped, not fatal: it was checked when registered
    return Object.values(this.#registry.certificates()).flatMap((pem) => {
      try {
        return [new crypto.X509Certificate(pem)];
      } catch {
        return [];
      }
    });
  }

  onPublish(session: Session, inbound: Inbound, payload: Buffer): void {
    switch (inbound.kind) {
      case 'telemetry':
        return this.#telemetry(session, inbound.bag, payload);
      case 'twinGet':
        this.#send(session.key, twinResponseTopic(200, inbound.rid), JSON.stringify(this.#twins.get(session.key)), 0);
        return;
      case 'twinReported':
        return this.#reported(session, inbound.rid, payload);
      case 'methodResponse':
        return this.methods.answer(session.key, inbound.rid, inbound.status, payload);
    }
  }

  onSubscribed(session: Session, filters: string[]): void {
    for (const f of filters) this.#flush(session.key, f);
  }

  twin(id: Identity): TwinDocument {
    this.#requireIdentity(id);
    return this.#twins.get(identityKey(id));
  }

  /** Applies a desired patch and pushes it to the device if it listens for desired updates. */
  patchDesired(id: Identity, patch: unknown): TwinDocument {
    this.#requireIdentity(id);
    const key = identityKey(id);
    const { version, patch: pushed } = this.#twins.patchDesired(key, patch);
    if (this.broker?.isSubscribed(key, FILTER.desired)) this.#send(key, desiredTopic(version), JSON.stringify(pushed), 0);
    return this.#twins.get(key);
  }

  /** Calls a direct method; 404 when the device is not listening for methods, 504 on timeout. */
  async invokeMethod(id: Identity, name: string, payload: unknown = null, timeoutSeconds?: number): Promise<MethodResult> {
    if (!METHOD_NAME.test(name)) v.fail('a method name of 1-100 URL-safe characters', 'the method name', name);
    const timeout = methodTimeout(timeoutSeconds);
    const body = Buffer.from(JSON.stringify(payload === undefined ? null : payload));
    if (body.length > LIMITS.methodPayloadBytes) {
      throw new EmulatorError('MessageTooLarge', `Method payload is ${body.length} bytes, over IoT Hub's ${LIMITS.methodPayloadBytes}`);
    }
    this.#requireIdentity(id);
    const key = identityKey(id);
    if (!this.broker?.isSubscribed(key, FILTER.methods)) {
      throw new EmulatorError('DeviceNotOnline', `${key} is not connected or not listening for direct methods`);
    }
    return this.methods.start(key, timeout, name, (rid) => this.#send(key, methodRequestTopic(name, rid), body, 0));
  }

  /** Sends a cloud-to-device message, queued (up to 50, as IoT Hub) until the device subscribes. */
  sendC2d(deviceId: string, message: CloudMessage): { messageId: string; queued: boolean } {
    const id = { deviceId, moduleId: null };
    this.#requireIdentity(id);
    const { bag, payload, messageId } = this.#encode(message, { to: `/devices/${deviceId}/messages/deviceBound` });
    const queued = this.#deliver(identityKey(id), c2dFilter(deviceId), c2dTopic(deviceId, bag), payload);
    return { messageId, queued };
  }

  /** Sends a message to a module input, as edgeHub routes do; queued like C2D. */
  sendInput(id: Identity & { moduleId: string }, input: string, message: CloudMessage): { messageId: string; queued: boolean } {
    if (!/^[A-Za-z0-9\-._]{1,64}$/.test(input)) v.fail('an input name of 1-64 letters, digits, -._', 'the input name', input);
    this.#requireIdentity(id);
    const { bag, payload, messageId } = this.#encode(message, { inputName: input });
    const key = identityKey(id);
    const queued = this.#deliver(key, inputFilter(id.deviceId, id.moduleId), inputTopic(id.deviceId, id.moduleId, input, bag), payload);
    return { messageId, queued };
  }

  close(): void {
    this.methods.cancelAll();
    this.#queues.clear();
  }

  #telemetry(session: Session, bag: string, payload: Buffer): void {
    const pairs = parseBag(bag);
    if (pairs === null) throw new EmulatorError('BadRequest', `malformed property bag ${bag}`);
    const size = payload.length + bagBytes(pairs);
    if (size > LIMITS.telemetryBytes) {
      // IoT Hub refuses a device-to-cloud message over 256 KB (body + properties) by closing the
      // MQTT connection; the message is not stored and the device's PUBACK never comes
      throw new EmulatorError('MessageTooLarge', `message of ${size} bytes (body and properties) is over IoT Hub's ${LIMITS.telemetryBytes}`);
    }
    const { system, app } = splitProperties(pairs);
    this.#store.add(toReceived(this.#store.nextSeq, session.id, system, app, payload));
  }

  #reported(session: Session, rid: string, payload: Buffer): void {
    let patch: unknown;
    try {
      patch = JSON.parse(payload.toString('utf8'));
    } catch {
      this.#send(session.key, twinResponseTopic(400, rid), twinError(400, 'reported patch is not JSON'), 0);
      return;
    }
    try {
      const version = this.#twins.patchReported(session.key, patch);
      this.#send(session.key, twinResponseTopic(204, rid, version), '', 0);
    } catch (err) {
      if (!EmulatorError.is(err)) throw err;
      // IoT Hub answers a bad or oversized (> 32 KB) patch with a status on the response topic
      // (400 / 413) and keeps the connection; the twin is unchanged
      this.#log.warn({ key: session.key, err: err.message }, 'reported patch refused');
      this.#send(session.key, twinResponseTopic(err.status, rid), twinError(err.status, err.message), 0);
    }
  }

  #encode(message: CloudMessage, extra: Record<string, string>): { bag: string; payload: Buffer; messageId: string } {
    let payload: Buffer;
    if (message.bodyBase64 !== undefined) payload = Buffer.from(message.bodyBase64, 'base64');
    else if (typeof message.body === 'string') payload = Buffer.from(message.body);
    else payload = Buffer.from(JSON.stringify(message.body ?? null));
    const messageId = message.messageId ?? crypto.randomUUID();
    const system: Record<string, string> = { messageId, ...extra };
    if (message.correlationId !== undefined) system.correlationId = message.correlationId;
    if (message.contentType !== undefined) system.contentType = message.contentType;
    if (message.contentEncoding !== undefined) system.contentEncoding = message.contentEncoding;
    const app = message.properties ?? {};
    const size = payload.length + bagBytes([...Object.entries(system), ...Object.entries(app)]);
    if (size > LIMITS.c2dBytes) {
      throw new EmulatorError('MessageTooLarge', `Message of ${size} bytes is over IoT Hub's cloud-to-device limit of ${LIMITS.c2dBytes}`);
    }
    if (extra.inputName !== undefined) delete system.inputName; // carried by the topic, not the bag
    return { bag: formatBag(system, app), payload, messageId };
  }

  /** Sends what waits for `filter`, oldest first, while the device listens on it. */
  #flush(key: string, filter: string): void {
    const queue = this.#queues.get(key);
    if (!queue || !this.broker?.isSubscribed(key, filter)) return;
    const rest = queue.filter((q) => q.filter !== filter || !this.#send(key, q.topic, q.payload, 1));
    if (rest.length === 0) this.#queues.delete(key);
    else this.#queues.set(key, rest);
  }

  /** True when the message was queued rather than sent. */
  #deliver(key: string, filter: string, topic: string, payload: Buffer): boolean {
    // the subscription can be live before the broker reports it: older messages go first
    this.#flush(key, filter);
    const waiting = this.#queues.get(key)?.some((q) => q.filter === filter) ?? false;
    if (!waiting && this.broker?.isSubscribed(key, filter) && this.#send(key, topic, payload, 1)) return false;
    const queue = this.#queues.get(key) ?? [];
    if (queue.length >= LIMITS.c2dQueueDepth) {
      throw new EmulatorError('QueueDepthExceeded', `${key} already has ${LIMITS.c2dQueueDepth} messages waiting: connect the device to drain them`);
    }
    queue.push({ filter, topic, payload });
    this.#queues.set(key, queue);
    return true;
  }

  #send(key: string, topic: string, payload: Buffer | string, qos: 0 | 1): boolean {
    return this.broker?.send(key, topic, payload, qos) ?? false;
  }

  #requireIdentity(id: Identity): void {
    if (this.#registry.has(id)) return;
    if (id.moduleId !== null && this.#registry.has({ deviceId: id.deviceId, moduleId: null })) {
      throw new EmulatorError('ModuleNotFound', `Module ${id.moduleId} of device ${id.deviceId} is not registered`);
    }
    throw new EmulatorError('DeviceNotFound', `Device ${id.deviceId} is not registered: add it first`);
  }
}
