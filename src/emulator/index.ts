// The local IoT Hub emulator: MQTT over TLS and over WebSockets for devices and modules (SAS or
// X.509), an HTTP service API, and iotedged's workload API, all on loopback with state in one
// folder. `HubEmulator.start()` is the whole public surface; everything else is internal.
import fs from 'node:fs';
import path from 'node:path';
import { ensurePrivateDir } from '../state/modes.js';
import { Broker, type Faults } from './broker.js';
import { ensureDeviceCertificate, type DeviceCertificateFiles } from './device-certs.js';
import { ensureCerts } from './certs.js';
import { EmulatorError } from './errors.js';
import { FileServer } from './files.js';
import { HubCore, type CloudMessage } from './hub.js';
import type { MethodResult } from './methods.js';
import { Registry } from './registry.js';
import { MessageStore, matches, type MessageQuery } from './store.js';
import { ServiceApi, type ServiceBackend } from './api.js';
import { TwinStore, type TwinDocument } from './twin.js';
import { identityKey, silentLogger, type EmulatorLogger, type Identity, type ReceivedMessage } from './types.js';
import { WEBSOCKET_PORT, startWebSocketPort, type WebSocketFront } from './websocket.js';
import { WORKLOAD_API_VERSION, WorkloadApi, workloadSocketPath } from './workload.js';
import { normalizeThumbprint } from './x509.js';

export { EmulatorError } from './errors.js';
export type { EmulatorErrorCode } from './errors.js';
export type { ReceivedMessage, EmulatorLogger, Identity } from './types.js';
export { LIMITS } from './types.js';
export type { Faults } from './broker.js';
export type { CloudMessage } from './hub.js';
export type { MethodResult } from './methods.js';
export type { TwinDocument } from './twin.js';
export { createSas } from './sas.js';
export { makeCertificate, type CertificateAndKey } from './device-certs.js';
export { WEBSOCKET_PATH, WEBSOCKET_PORT } from './websocket.js';

export const DEFAULT_MQTT_PORT = 8883;
export const DEFAULT_API_PORT = 8884;

export interface HubEmulatorOptions {
  /** Folder for certificates, registry, twins, messages and ports.json; created if missing. */
  stateDir: string;
  /** 8883 by default; 0 picks a free port. */
  mqttPort?: number;
  /** 8884 by default; 0 picks a free port. */
  apiPort?: number;
  /**
   * MQTT over WebSockets: a port (0 picks a free one), or `auto` for 443 when it can be bound
   * (root, and free), else off. Off when absent: the SDK's MqttWs only dials 443.
   */
  wsPort?: number | 'auto';
  /** Host name put in connection strings (the server certificate covers localhost, 127.0.0.1, ::1). */
  host?: string;
  logger?: EmulatorLogger;
  /** Received messages kept in memory (all of them go to messages.jsonl). */
  maxMessages?: number;
  /** HTTPS file server for <state>/files/ (model packages); 0 (the default) picks a free port. */
  filesPort?: number;
}

export interface PortsFile {
  mqtt: number;
  api: number;
  /** MQTT over WebSockets, or null when not served. */
  ws: number | null;
  /** The HTTPS file server (<state>/files/). */
  files?: number;
  pid: number;
  host: string;
}

async function listening<T>(what: string, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new EmulatorError('PortInUse', `Port ${port} for the ${what} is in use: stop what holds it or choose another port (0 picks a free one)`, {
        cause: err,
      });
    }
    if ((err as NodeJS.ErrnoException).code === 'EACCES') {
      throw new EmulatorError('PortNotAllowed', `Port ${port} for the ${what} needs root (or CAP_NET_BIND_SERVICE): run as root or choose a port above 1023`, {
        cause: err,
      });
    }
    throw err;
  }
}

export class HubEmulator {
  readonly stateDir: string;
  readonly host: string;
  readonly caPath: string;
  readonly caPem: string;
  readonly mqttPort: number;
  readonly apiPort: number;
  /** The MQTT over WebSockets port, or null when not served (see `wsNote`). */
  readonly wsPort: number | null;
  /** Where MQTT over WebSockets is served, or why it is off. */
  readonly wsNote: string;
  readonly workloadSocket: string;
  /** The HTTPS file server's port; `fileUrl(name)` is what a device downloads. */
  readonly filesPort: number;
  #files: FileServer;
  #registry: Registry;
  #store: MessageStore;
  #core: HubCore;
  #broker: Broker;
  #api: ServiceApi;
  #workload: WorkloadApi;
  #ws: WebSocketFront | null;
  #closed = false;

  private constructor(parts: {
    stateDir: string;
    host: string;
    caPath: string;
    caPem: string;
    registry: Registry;
    store: MessageStore;
    core: HubCore;
    broker: Broker;
    api: ServiceApi;
    workload: WorkloadApi;
    ws: { front: WebSocketFront | null; note: string };
    files: FileServer;
  }) {
    this.stateDir = parts.stateDir;
    this.host = parts.host;
    this.caPath = parts.caPath;
    this.caPem = parts.caPem;
    this.#registry = parts.registry;
    this.#store = parts.store;
    this.#core = parts.core;
    this.#broker = parts.broker;
    this.#api = parts.api;
    this.#workload = parts.workload;
    this.mqttPort = parts.broker.port;
    this.apiPort = parts.api.port;
    this.workloadSocket = parts.workload.socketPath;
    this.#ws = parts.ws.front;
    this.wsPort = parts.ws.front?.port ?? null;
    this.wsNote = parts.ws.note;
    this.#files = parts.files;
    this.filesPort = parts.files.port;
  }

  /** The URL of <state>/files/<name> on the file server (trusted through the emulator's CA). */
  fileUrl(name: string): string {
    return `https://127.0.0.1:${this.filesPort}/files/${encodeURIComponent(name)}`;
  }

  static async start(opts: HubEmulatorOptions): Promise<HubEmulator> {
    const stateDir = path.resolve(opts.stateDir);
    const host = opts.host ?? 'localhost';
    const logger = opts.logger ?? silentLogger;
    ensurePrivateDir(stateDir);
    const tlsMaterial = ensureCerts(stateDir);
    const registry = new Registry(stateDir);
    const store = new MessageStore(stateDir, opts.maxMessages);
    const core = new HubCore(registry, new TwinStore(stateDir), store, logger);
    const mqttPort = opts.mqttPort ?? DEFAULT_MQTT_PORT;
    const ref: { hub?: HubEmulator; backend?: ServiceBackend } = {};
    // the SDK signs the host as written in the connection string: with a port (ours, or one a
    // port mapping or proxy puts in front of us), or without
    const broker = await listening('MQTT broker', mqttPort, () => Broker.start({ port: mqttPort, tls: tlsMaterial, hostNames: [host], handler: core, logger }));
    core.broker = broker;
    const backend = (): ServiceBackend => (ref.backend ??= ref.hub!.#backend());
    // each part started is closed again when a later one fails
    const started: Array<{ close(): Promise<void> }> = [broker];
    let api: ServiceApi;
    let workload: WorkloadApi;
    let files: FileServer;
    let ws: { front: WebSocketFront | null; note: string } = { front: null, note: 'off: not asked for (--ws-port)' };
    try {
      const apiPort = opts.apiPort ?? DEFAULT_API_PORT;
      api = await listening('service API', apiPort, () => ServiceApi.start(apiPort, lazyBackend(backend)));
      started.push(api);
      workload = await WorkloadApi.start({ socketPath: workloadSocketPath(stateDir), registry, caPem: tlsMaterial.caPem, logger });
      started.push(workload);
      const filesPort = opts.filesPort ?? 0;
      files = await listening('file server', filesPort, () =>
        FileServer.start({ stateDir, port: filesPort, keyPem: tlsMaterial.keyPem, certPem: tlsMaterial.certPem, logger }),
      );
      started.push(files);
      const wsPort = opts.wsPort;
      if (wsPort !== undefined) {
        ws = await listening('MQTT over WebSockets', wsPort === 'auto' ? WEBSOCKET_PORT : wsPort, () =>
          startWebSocketPort(wsPort, { tls: tlsMaterial, logger, onStream: (stream, socket, req) => broker.accept(stream, socket, req) }),
        );
      }
    } catch (err) {
      await Promise.all(started.map((p) => p.close()));
      throw err;
    }
    const hub = new HubEmulator({
      stateDir,
      host,
      caPath: tlsMaterial.caPath,
      caPem: tlsMaterial.caPem,
      registry,
      store,
      core,
      broker,
      api,
      workload,
      ws,
      files,
    });
    ref.hub = hub;
    const ports: PortsFile = { mqtt: hub.mqttPort, api: hub.apiPort, ws: hub.wsPort, files: hub.filesPort, pid: process.pid, host };
    fs.writeFileSync(path.join(stateDir, 'ports.json'), JSON.stringify(ports) + '\n');
    if (hub.wsPort === null && opts.wsPort === 'auto') logger.warn({ reason: hub.wsNote }, 'MQTT over WebSockets is off');
    logger.info({ mqttPort: hub.mqttPort, apiPort: hub.apiPort, wsPort: hub.wsPort, caPath: hub.caPath, stateDir }, 'IoT Hub emulator listening');
    return hub;
  }

  /** The host name devices use: `localhost:<mqtt port>` (the SDK dials it and signs it in `sr`). */
  get hostName(): string {
    return `${this.host}:${this.mqttPort}`;
  }

  /** Registers a device (and a module of it) if missing; idempotent. */
  addDevice(deviceId: string, moduleId?: string): { connectionString: string; key: string } {
    const { key } = this.#registry.add(deviceId, moduleId ?? null);
    return { key, connectionString: this.connectionString(deviceId, moduleId) };
  }

  /**
   * Registers an X.509 device. With a `thumbprint` (SHA-1 or SHA-256 of its certificate) it is
   * self-signed and brings its own certificate; with `ca` a registered CA must have issued it
   * (CN = device id); with neither, a self-signed certificate and key are made in
   * `<state>/devices/`. Idempotent; refused when the id is registered otherwise.
   */
  addX509Device(
    deviceId: string,
    opts: { thumbprint?: string; ca?: boolean } = {},
  ): { connectionString: string; created: boolean; files?: DeviceCertificateFiles } {
    let created = false;
    let files: DeviceCertificateFiles | undefined;
    if (opts.ca) {
      if (opts.thumbprint !== undefined)
        throw new EmulatorError('BadRequest', 'A CA-signed device is known by its CA, not a thumbprint: pass one or the other');
      created = this.#registry.addX509(deviceId, { type: 'certificateAuthority', thumbprints: [] }).created;
    } else if (opts.thumbprint !== undefined) {
      created = this.#registry.addX509(deviceId, { type: 'selfSigned', thumbprints: [normalizeThumbprint(opts.thumbprint)] }).created;
    } else {
      files = ensureDeviceCertificate(this.stateDir, deviceId, (t) => {
        created = this.#registry.addX509(deviceId, { type: 'selfSigned', thumbprints: [t.sha1, t.sha256] }).created;
      });
    }
    return { connectionString: this.connectionString(deviceId), created, ...(files ? { files } : {}) };
  }

  /** Registers a CA certificate (PEM) that issues CA-signed devices' certificates; idempotent per name. */
  addCertificateAuthority(name: string, pem: string): { created: boolean } {
    return this.#registry.addCertificate(name, pem);
  }

  /** `HostName=…;DeviceId=…;[ModuleId=…;]SharedAccessKey=…`, or `…;x509=true` for an X.509 device. */
  connectionString(deviceId: string, moduleId?: string): string {
    const cred = this.#registry.credential({ deviceId, moduleId: moduleId ?? null });
    if (cred === null)
      throw new EmulatorError(moduleId ? 'ModuleNotFound' : 'DeviceNotFound', `${deviceId}${moduleId ? '/' + moduleId : ''} is not registered`);
    const head = `HostName=${this.hostName};DeviceId=${deviceId};` + (moduleId ? `ModuleId=${moduleId};` : '');
    return head + (cred.kind === 'sas' ? `SharedAccessKey=${cred.key}` : 'x509=true');
  }

  /** Received messages, oldest first: all, one device's (its modules included), or one module's. */
  messages(deviceId?: string, moduleId?: string): ReceivedMessage[] {
    return this.#store.query({ deviceId, ...(moduleId === undefined ? {} : { moduleId }) });
  }

  /** Resolves once `count` messages match, or rejects after `timeoutMs`. */
  waitForMessages(count: number, q: MessageQuery = {}, timeoutMs = 10_000): Promise<ReceivedMessage[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.#store.query(q);
        if (found.length < count) return false;
        stop();
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const stop = this.#store.follow((m) => void (matches(m, q) && check()));
      const timer = setTimeout(() => {
        stop();
        reject(new EmulatorError('GatewayTimeout', `Expected ${count} messages within ${timeoutMs} ms, got ${this.#store.query(q).length}`));
      }, timeoutMs);
      check();
    });
  }

  /** The MQTT topic filters the identity's live connection listens on (empty when offline). */
  subscriptions(deviceId: string, moduleId?: string): string[] {
    return this.#broker.subscriptions(identityKey({ deviceId, moduleId: moduleId ?? null }));
  }

  isConnected(deviceId: string, moduleId?: string): boolean {
    return this.#broker.session(identityKey({ deviceId, moduleId: moduleId ?? null })) !== undefined;
  }

  twin(deviceId: string, moduleId?: string): TwinDocument {
    return this.#core.twin({ deviceId, moduleId: moduleId ?? null });
  }

  /** Merges a desired patch (null deletes), bumps `$version` and pushes it to the device. */
  patchDesired(deviceId: string, patch: Record<string, unknown>, moduleId?: string): TwinDocument {
    return this.#core.patchDesired({ deviceId, moduleId: moduleId ?? null }, patch);
  }

  /** Calls a direct method. Rejects with EmulatorError DeviceNotOnline (404) or GatewayTimeout (504). */
  invokeMethod(deviceId: string, name: string, payload: unknown = null, opts: { timeoutSeconds?: number; moduleId?: string } = {}): Promise<MethodResult> {
    return this.#core.invokeMethod({ deviceId, moduleId: opts.moduleId ?? null }, name, payload, opts.timeoutSeconds);
  }

  sendC2d(deviceId: string, message: CloudMessage): { messageId: string; queued: boolean } {
    return this.#core.sendC2d(deviceId, message);
  }

  sendInput(deviceId: string, moduleId: string, input: string, message: CloudMessage): { messageId: string; queued: boolean } {
    return this.#core.sendInput({ deviceId, moduleId }, input, message);
  }

  get faults(): Faults {
    return { ...this.#broker.faults };
  }

  setFaults(patch: Partial<Faults>): void {
    this.#broker.setFaults(patch);
  }

  /** Closes device connections (one identity's or all); returns how many. */
  dropConnections(deviceId?: string, moduleId?: string): number {
    return this.#broker.drop(deviceId === undefined ? undefined : identityKey({ deviceId, moduleId: moduleId ?? null }));
  }

  /**
   * The environment IoT Edge gives a module, so `ModuleClient.fromEnvironment(Mqtt)` signs
   * through this emulator's workload socket and connects to it (the gateway host carries the port).
   */
  edgeEnv(deviceId: string, moduleId: string): Record<string, string> {
    this.addDevice(deviceId, moduleId);
    const mod = this.#registry.device(deviceId)?.modules[moduleId];
    if (mod === undefined) throw new EmulatorError('NotFound', `module ${deviceId}/${moduleId} is not registered`);
    return {
      IOTEDGE_WORKLOADURI: `unix://${this.workloadSocket}`,
      IOTEDGE_DEVICEID: deviceId,
      IOTEDGE_MODULEID: moduleId,
      IOTEDGE_IOTHUBHOSTNAME: this.host,
      IOTEDGE_AUTHSCHEME: 'sasToken',
      IOTEDGE_GATEWAYHOSTNAME: this.hostName,
      IOTEDGE_MODULEGENERATIONID: mod.generationId,
      IOTEDGE_APIVERSION: WORKLOAD_API_VERSION,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#core.close();
    await Promise.all([this.#api.close(), this.#workload.close(), this.#broker.close(), this.#ws?.close(), this.#files.close()]);
    const portsFile = path.join(this.stateDir, 'ports.json');
    try {
      const ports = JSON.parse(fs.readFileSync(portsFile, 'utf8')) as PortsFile;
      if (ports.pid === process.pid && ports.mqtt === this.mqttPort) fs.rmSync(portsFile, { force: true });
    } catch {
      // already gone
    }
  }

  #backend(): ServiceBackend {
    const key = (id: Identity) => identityKey(id);
    return {
      addIdentity: (deviceId, moduleId) => {
        const r = this.#registry.add(deviceId, moduleId);
        return { ...r, connectionString: this.connectionString(deviceId, moduleId ?? undefined) };
      },
      addX509: (deviceId, opts) => this.addX509Device(deviceId, opts),
      certificates: () => this.#registry.certificates(),
      addCertificate: (name, pem) => this.addCertificateAuthority(name, pem),
      identities: () =>
        this.#registry.list().map((d) => ({
          deviceId: d.deviceId,
          auth: d.auth,
          connected: this.isConnected(d.deviceId),
          modules: d.modules.map((moduleId) => ({ moduleId, connected: this.isConnected(d.deviceId, moduleId) })),
        })),
      identity: (id) => {
        const cred = this.#registry.credential(id);
        if (cred === null) this.#core.twin(id); // throws the right not-found error
        return {
          auth: cred!.kind,
          key: cred!.kind === 'sas' ? cred!.key : null,
          ...(cred!.kind === 'x509' ? { x509: cred!.x509 } : {}),
          connectionString: this.connectionString(id.deviceId, id.moduleId ?? undefined),
          connected: this.#broker.session(key(id)) !== undefined,
          subscriptions: this.#broker.subscriptions(key(id)),
        };
      },
      query: (q) => this.#store.query(q),
      follow: (l) => this.#store.follow(l),
      twin: (id) => this.#core.twin(id),
      patchDesired: (id, patch) => this.#core.patchDesired(id, patch),
      invokeMethod: (id, name, payload, timeout) => this.#core.invokeMethod(id, name, payload, timeout),
      sendC2d: (deviceId, m) => this.#core.sendC2d(deviceId, m),
      sendInput: (id, input, m) => this.#core.sendInput(id, input, m),
      faults: () => this.faults,
      setFaults: (patch) => this.setFaults(patch),
      drop: (id) => this.#broker.drop(id === undefined ? undefined : key(id)),
    };
  }
}

/** The API starts before the emulator object exists; requests arrive only after start() returns. */
function lazyBackend(get: () => ServiceBackend): ServiceBackend {
  return new Proxy({} as ServiceBackend, {
    // Each member is read from the real backend, bound to it, when a request uses it.
    get: (_t, prop: keyof ServiceBackend): unknown => {
      const backend = get();
      const member: unknown = Reflect.get(backend, prop);
      return typeof member === 'function' ? (member as (...a: unknown[]) => unknown).bind(backend) : member;
    },
  });
}
