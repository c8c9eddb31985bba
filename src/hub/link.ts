// The link to IoT Hub (or edgeHub): one SDK client over MQTT (or MQTT over WebSockets),
// authenticated by a SAS connection string, an X.509 certificate, or the IoT Edge
// environment. Connection retries are ours (backoff with full jitter), not the SDK's.

import { EventEmitter } from 'node:events';
import { device, Mqtt, MqttWs, type Client, type ModuleClient, type Twin } from './sdk.js';
import type { Logger } from '../log.js';
import type { LinkState } from '../status.js';
import type { OutboxRow } from './outbox.js';
import { PerceptError } from '../errors.js';

export interface LinkOptions {
  connectionString?: string;
  edge?: boolean;
  /** PEM text, not paths. */
  ca?: string;
  cert?: string;
  key?: string;
  transport: 'mqtt' | 'mqttws';
  /** Module output name for sendOutputEvent. */
  output: string;
  logger: Logger;
  /** A send not acknowledged within this long counts as failed (the silent-hang case). */
  sendTimeoutMs?: number;
  backoffMs?: [number, number];
}

export interface MethodResult {
  status: number;
  payload: unknown;
}
export type MethodHandler = (payload: unknown) => Promise<MethodResult>;

/** Parses `HostName=...;DeviceId=...;ModuleId=...` without keeping the key anywhere. */
export function identityOf(cs: string): { host: string; deviceId: string; moduleId?: string; x509: boolean } {
  const parts = new Map<string, string>();
  for (const p of cs.split(';')) {
    const i = p.indexOf('=');
    if (i > 0) parts.set(p.slice(0, i).trim(), p.slice(i + 1).trim());
  }
  const host = parts.get('HostName');
  const deviceId = parts.get('DeviceId');
  if (!host || !deviceId || (!parts.get('SharedAccessKey') && !parts.get('SharedAccessSignature') && parts.get('x509') !== 'true')) {
    throw new PerceptError('ERR_CONFIG', 'the hub connection string must hold HostName, DeviceId and SharedAccessKey (or x509=true); copy it from the IoT Hub device page or `percept hub device add`');
  }
  return { host, deviceId, moduleId: parts.get('ModuleId') || undefined, x509: parts.get('x509') === 'true' };
}

export class HubLink extends EventEmitter {
  #client: Client | ModuleClient | null = null;
  #state: LinkState = 'disconnected';
  #closed = false;
  #failures = 0;
  #reconnects = 0;
  #lastError: string | null = null;
  #connecting: Promise<void> | null = null;
  #methods = new Map<string, MethodHandler>();
  #desired: ((patch: Record<string, unknown>) => void) | null = null;
  #twin: Twin | null = null;
  readonly host: string;
  readonly deviceId: string;
  readonly moduleId?: string;
  readonly auth: 'sas' | 'x509' | 'edge';
  readonly #o: LinkOptions & { sendTimeoutMs: number; backoffMs: [number, number] };

  constructor(opts: LinkOptions) {
    super();
    this.#o = { sendTimeoutMs: 30_000, backoffMs: [500, 30_000], ...opts };
    if (opts.edge) {
      this.host = process.env.IOTEDGE_GATEWAYHOSTNAME ?? process.env.IOTEDGE_IOTHUBHOSTNAME ?? 'edgeHub';
      this.deviceId = process.env.IOTEDGE_DEVICEID ?? '';
      this.moduleId = process.env.IOTEDGE_MODULEID;
      this.auth = 'edge';
      if (!this.deviceId || !this.moduleId) {
        throw new PerceptError('ERR_CONFIG', 'running as an IoT Edge module needs IOTEDGE_DEVICEID and IOTEDGE_MODULEID (set by the IoT Edge runtime); outside IoT Edge use --connection-string');
      }
    } else if (opts.connectionString) {
      const id = identityOf(opts.connectionString);
      this.host = id.host;
      this.deviceId = id.deviceId;
      this.moduleId = id.moduleId;
      this.auth = id.x509 ? 'x509' : 'sas';
      if (id.x509 && (!opts.cert || !opts.key)) throw new PerceptError('ERR_CONFIG', 'an x509=true connection string needs --cert and --key (PEM files)');
    } else {
      throw new PerceptError('ERR_CONFIG', 'no hub identity: pass --connection-string, or run under IoT Edge');
    }
  }

  get state(): LinkState {
    return this.#state;
  }
  get reconnects(): number {
    return this.#reconnects;
  }
  get lastError(): string | null {
    return this.#lastError;
  }

  #setState(s: LinkState): void {
    if (s === this.#state) return;
    this.#state = s;
    this.emit('state', s);
  }

  async #build(): Promise<Client | ModuleClient> {
    const T = this.#o.transport === 'mqttws' ? MqttWs : Mqtt;
    let client: Client | ModuleClient;
    if (this.#o.edge) client = await device.ModuleClient.fromEnvironment(T);
    else if (this.moduleId) client = device.ModuleClient.fromConnectionString(this.#o.connectionString!, T);
    else client = device.Client.fromConnectionString(this.#o.connectionString!, T);
    const options: Record<string, unknown> = {};
    if (this.#o.ca) options.ca = this.#o.ca;
    if (this.#o.cert) options.cert = this.#o.cert;
    if (this.#o.key) options.key = this.#o.key;
    if (Object.keys(options).length) await client.setOptions(options);
    // Our supervision decides about retries, by error code; the SDK's would hide outages.
    client.setRetryPolicy({ shouldRetry: () => false, nextRetryTimeout: () => -1 } as never);
    client.on('error', (e: Error) => this.#lost(e));
    client.on('disconnect', () => this.#lost(new Error('disconnected by the hub')));
    for (const [name, handler] of this.#methods) this.#register(client, name, handler);
    return client;
  }

  #register(client: Client | ModuleClient, name: string, handler: MethodHandler): void {
    // Device clients call it onDeviceMethod, module clients onMethod.
    type Register = (n: string, cb: (req: { payload: unknown }, res: { send(s: number, p: unknown, done: () => void): void }) => void) => void;
    const c = client as unknown as { onMethod?: Register; onDeviceMethod?: Register };
    const register = (this.moduleId ? c.onMethod : c.onDeviceMethod)?.bind(client);
    if (!register) throw new PerceptError('ERR_HUB', 'the SDK client cannot register direct methods');
    register(name, (req, res) => {
      let payload: unknown = req.payload;
      if (Buffer.isBuffer(payload)) payload = payload.length ? JSON.parse(payload.toString('utf8')) : null;
      handler(payload).then(
        (r) => res.send(r.status, r.payload, () => undefined),
        (e: unknown) => res.send(500, { error: { code: (e as PerceptError).code ?? 'ERR_INTERNAL', message: (e as Error).message } }, () => undefined),
      );
    });
  }

  /** Connects, retrying with backoff until it works or the link is closed. */
  open(): Promise<void> {
    this.#connecting ??= this.#connectLoop().finally(() => (this.#connecting = null));
    return this.#connecting;
  }

  async #connectLoop(): Promise<void> {
    while (!this.#closed) {
      this.#setState('connecting');
      try {
        const client = await this.#build();
        await client.open();
        if (this.#closed) {
          await client.close().catch(() => undefined);
          return;
        }
        this.#client = client;
        if (this.#failures > 0 || this.#reconnects > 0) this.#reconnects++;
        this.#failures = 0;
        this.#o.logger.info({ host: this.host, deviceId: this.deviceId, moduleId: this.moduleId, auth: this.auth }, 'connected to the hub');
        await this.#attachTwin(client);
        this.#setState('connected');
        return;
      } catch (e) {
        this.#lastError = (e as Error).message;
        this.#failures++;
        const [lo, hi] = this.#o.backoffMs;
        // Full jitter: a fleet that lost its hub together does not return together.
        const delay = Math.random() * Math.min(hi, lo * 2 ** Math.min(this.#failures, 16));
        this.#o.logger.warn({ host: this.host, error: this.#lastError, retryInMs: Math.round(delay) }, 'hub connection failed; retrying');
        this.#setState('disconnected');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async #attachTwin(client: Client | ModuleClient): Promise<void> {
    try {
      const twin = await client.getTwin();
      this.#twin = twin;
      twin.on('properties.desired', (patch: Record<string, unknown>) => this.#desired?.(patch));
    } catch (e) {
      this.#o.logger.warn({ error: (e as Error).message }, 'module twin unavailable');
    }
  }

  #lost(e: Error): void {
    if (this.#closed || this.#state !== 'connected') return;
    this.#lastError = e.message;
    this.#o.logger.warn({ error: e.message }, 'hub connection lost; reconnecting');
    this.#setState('disconnected');
    const old = this.#client;
    this.#client = null;
    this.#twin = null;
    void old?.removeAllListeners().close().catch(() => undefined);
    old?.on('error', () => undefined);
    void this.open();
  }

  /** Drops the connection and reconnects (after a send deadline passed, for instance). */
  reconnect(reason: string): void {
    if (this.#state === 'connected') this.#lost(new Error(reason));
  }

  /** Sends one outbox row; resolves on the hub's acknowledgement. */
  async send(row: OutboxRow): Promise<void> {
    const client = this.#client;
    if (!client || this.#state !== 'connected') throw new PerceptError('ERR_HUB', 'not connected to the hub');
    const msg = new device.Message(row.body);
    msg.messageId = row.messageId;
    msg.contentType = row.contentType as 'application/json';
    msg.contentEncoding = row.contentEncoding as 'utf-8';
    for (const [k, v] of Object.entries(row.properties)) msg.properties.add(k, v);
    const sending = this.moduleId && this.#o.edge ? (client as ModuleClient).sendOutputEvent(this.#o.output, msg) : client.sendEvent(msg);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PerceptError('ERR_HUB', `no acknowledgement within ${this.#o.sendTimeoutMs} ms`)), this.#o.sendTimeoutMs);
    });
    try {
      await Promise.race([sending, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  onMethod(name: string, handler: MethodHandler): void {
    this.#methods.set(name, handler);
    if (this.#client) this.#register(this.#client, name, handler);
  }

  /** Desired-property patches (the first call after connecting carries the whole document). */
  onDesired(fn: (patch: Record<string, unknown>) => void): void {
    this.#desired = fn;
  }

  async getDesired(): Promise<Record<string, unknown> | null> {
    return (this.#twin?.properties.desired as Record<string, unknown> | undefined) ?? null;
  }

  async report(patch: Record<string, unknown>): Promise<void> {
    const twin = this.#twin;
    if (!twin) throw new PerceptError('ERR_HUB', 'the module twin is not available');
    await new Promise<void>((resolve, reject) => twin.properties.reported.update(patch, (e?: Error) => (e ? reject(e) : resolve())));
  }

  async close(): Promise<void> {
    this.#closed = true;
    const c = this.#client;
    this.#client = null;
    this.#setState('closed');
    if (c) await c.close().catch(() => undefined);
  }
}
