// The service side over HTTP on loopback, JSON in and out: the registry (SAS and X.509 devices,
// CA certificates), received messages (listed or followed as server-sent events / NDJSON), twins,
// direct methods, cloud-to-device and module input messages, and fault injection. Only local
// programs are served (api-gate.ts).
import http from 'node:http';
import type net from 'node:net';
import { admit } from './api-gate.js';
import type { Faults } from './broker.js';
import type { DeviceCertificateFiles } from './device-certs.js';
import { EmulatorError } from './errors.js';
import { parseCloudMessage, type CloudMessage } from './hub.js';
import { readJson, sendError, sendJson, trackSockets } from './http-util.js';
import type { MethodResult } from './methods.js';
import type { MessageQuery } from './store.js';
import type { TwinDocument } from './twin.js';
import type { Identity, ReceivedMessage } from './types.js';
import * as v from './validate.js';
import type { X509Auth } from './x509.js';

/** What the API needs from the emulator. */
export interface ServiceBackend {
  addIdentity(deviceId: string, moduleId: string | null): { created: boolean; key: string; connectionString: string };
  addX509(deviceId: string, opts: { thumbprint?: string; ca?: boolean }): { created: boolean; connectionString: string; files?: DeviceCertificateFiles };
  certificates(): Record<string, string>;
  addCertificate(name: string, pem: string): { created: boolean };
  identities(): Array<{ deviceId: string; auth: 'sas' | 'x509'; connected: boolean; modules: Array<{ moduleId: string; connected: boolean }> }>;
  identity(id: Identity): {
    auth: 'sas' | 'x509';
    /** null for an X.509 device */
    key: string | null;
    x509?: X509Auth;
    connectionString: string;
    connected: boolean;
    subscriptions: string[];
  };
  query(q: MessageQuery): ReceivedMessage[];
  follow(listener: (m: ReceivedMessage) => void): () => void;
  twin(id: Identity): TwinDocument;
  patchDesired(id: Identity, patch: unknown): TwinDocument;
  invokeMethod(id: Identity, name: string, payload: unknown, timeoutSeconds?: number): Promise<MethodResult>;
  sendC2d(deviceId: string, message: CloudMessage): { messageId: string; queued: boolean };
  sendInput(id: Identity & { moduleId: string }, input: string, message: CloudMessage): { messageId: string; queued: boolean };
  faults(): Faults;
  setFaults(patch: Partial<Faults>): void;
  drop(id?: Identity): number;
}

type Reply = [number, unknown] | 'streamed';

const HEARTBEAT_MS = 15_000;

export class ServiceApi {
  #server: http.Server;
  #close: () => Promise<void>;

  private constructor(server: http.Server) {
    this.#server = server;
    this.#close = trackSockets(server);
  }

  static async start(port: number, backend: ServiceBackend): Promise<ServiceApi> {
    const server = http.createServer((req, res) => {
      try {
        admit(req);
      } catch (err) {
        // the body is not read: close rather than wait for it on a kept-alive connection
        res.setHeader('connection', 'close');
        sendError(res, err);
        return;
      }
      route(req, res, backend).then(
        (reply) => {
          if (reply !== 'streamed') sendJson(res, reply[0], reply[1]);
        },
        (err: unknown) => sendError(res, err),
      );
    });
    const api = new ServiceApi(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return api;
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  close(): Promise<void> {
    return this.#close();
  }
}

function parseQuery(url: URL): MessageQuery {
  const q: MessageQuery = {};
  const since = url.searchParams.get('since');
  if (since !== null) {
    const t = /^\d+$/.test(since) ? Number(since) : Date.parse(since);
    if (!Number.isFinite(t)) v.fail('an ISO 8601 time or milliseconds since the epoch', 'since', since);
    q.since = new Date(t);
  }
  const after = url.searchParams.get('after');
  if (after !== null) {
    if (!/^\d+$/.test(after)) v.fail('a message seq (integer)', 'after', after);
    q.after = Number(after);
  }
  return q;
}

function notAllowed(method: string | undefined, path: string): never {
  throw new EmulatorError('MethodNotAllowed', `${method} is not supported on ${path}`);
}

async function route(req: http.IncomingMessage, res: http.ServerResponse, b: ServiceBackend): Promise<Reply> {
  const url = new URL(req.url ?? '/', 'http://hub');
  let segs: string[];
  try {
    segs = url.pathname
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
  } catch {
    throw new EmulatorError('BadRequest', `Malformed path ${url.pathname}`);
  }
  const method = req.method ?? 'GET';
  const path = url.pathname;

  if (segs[0] === 'faults' && segs.length === 1) {
    if (method === 'GET') return [200, { faults: b.faults() }];
    if (method === 'DELETE') {
      b.setFaults({ refuseAuth: false, stopAcks: false, delayMs: 0 });
      return [200, { faults: b.faults() }];
    }
    if (method === 'POST') return [200, faults(await readJson(req), b)];
    notAllowed(method, path);
  }
  if (segs[0] === 'certificates') {
    if (segs.length === 1 && method === 'GET') return [200, b.certificates()];
    const name = segs[1];
    if (segs.length !== 2 || name === undefined) throw new EmulatorError('NotFound', `No route ${path}`);
    if (method === 'GET') {
      const pem = b.certificates()[name];
      if (pem === undefined) throw new EmulatorError('NotFound', `No CA certificate named ${name}`);
      return [200, { name, certificate: pem }];
    }
    if (method !== 'PUT' && method !== 'POST') notAllowed(method, path);
    const body = v.object(await readJson(req), 'the request body');
    v.onlyKeys(body, ['certificate'], 'the request body');
    if (typeof body.certificate !== 'string') v.fail('a PEM CA certificate', 'certificate', body.certificate);
    const r = b.addCertificate(name, body.certificate);
    return [r.created ? 201 : 200, { name, created: r.created }];
  }
  if (segs[0] === 'messages' && segs.length === 1) {
    if (method !== 'GET') notAllowed(method, path);
    return [200, b.query(parseQuery(url))];
  }
  if (segs[0] !== 'devices') throw new EmulatorError('NotFound', `No route ${path}`);

  if (segs.length === 1) {
    if (method === 'GET') return [200, b.identities()];
    if (method === 'POST') {
      const body = v.object(await readJson(req), 'the request body');
      v.onlyKeys(body, ['id', 'deviceId', 'moduleId', 'auth', 'thumbprint'], 'the request body');
      const deviceId = body.id ?? body.deviceId;
      if (typeof deviceId !== 'string') v.fail('a device id string', 'id', deviceId);
      const moduleId = v.optionalString(body.moduleId, 'moduleId') ?? null;
      const auth = body.auth ?? 'sas';
      if (auth !== 'sas' && auth !== 'x509' && auth !== 'x509-ca') v.fail('"sas", "x509" or "x509-ca"', 'auth', auth);
      const thumbprint = v.optionalString(body.thumbprint, 'thumbprint');
      if (auth === 'sas') {
        if (thumbprint !== undefined) v.fail('no thumbprint for a SAS device (auth "x509" takes one)', 'thumbprint', thumbprint);
        return added(deviceId, moduleId, b);
      }
      if (moduleId !== null) v.fail('no moduleId: X.509 is served for devices (modules use SAS)', 'moduleId', moduleId);
      const r = b.addX509(deviceId, { ca: auth === 'x509-ca', ...(thumbprint === undefined ? {} : { thumbprint }) });
      const { x509 } = b.identity({ deviceId, moduleId: null });
      // a generated certificate's files are named; the key stays on disk, never in a response
      return [r.created ? 201 : 200, { deviceId, moduleId: null, auth: 'x509', x509, connectionString: r.connectionString, ...r.files }];
    }
    notAllowed(method, path);
  }

  const deviceId = segs[1];
  if (deviceId === undefined) throw new EmulatorError('NotFound', `No route ${path}`);
  let moduleId: string | null = null;
  let rest = segs.slice(2);
  if (rest[0] === 'modules') {
    if (rest.length === 1) {
      if (method !== 'POST') notAllowed(method, path);
      const body = v.object(await readJson(req), 'the request body');
      v.onlyKeys(body, ['id', 'moduleId'], 'the request body');
      const m = body.id ?? body.moduleId;
      if (typeof m !== 'string') v.fail('a module id string', 'id', m);
      return added(deviceId, m, b);
    }
    moduleId = rest[1] ?? null;
    rest = rest.slice(2);
  }
  const id: Identity = { deviceId, moduleId };
  const what = rest.join('/');

  if (what === '') {
    if (method !== 'GET') notAllowed(method, path);
    return [200, { deviceId, moduleId, ...b.identity(id) }];
  }
  if (what === 'messages') {
    if (method !== 'GET') notAllowed(method, path);
    b.identity(id);
    return [200, b.query({ ...parseQuery(url), deviceId, ...(moduleId === null ? {} : { moduleId }) })];
  }
  if (what === 'messages/stream') {
    if (method !== 'GET') notAllowed(method, path);
    b.identity(id);
    stream(req, res, b, url, { ...parseQuery(url), deviceId, ...(moduleId === null ? {} : { moduleId }) });
    return 'streamed';
  }
  if (what === 'twin') {
    if (method !== 'GET') notAllowed(method, path);
    return [200, b.twin(id)];
  }
  if (what === 'twin/desired') {
    if (method !== 'PATCH' && method !== 'POST') notAllowed(method, path);
    return [200, b.patchDesired(id, await readJson(req))];
  }
  const [verb, name] = rest;
  if (verb === 'methods' && name !== undefined && rest.length === 2) {
    if (method !== 'POST') notAllowed(method, path);
    const raw = await readJson(req);
    const body = raw === undefined ? {} : v.object(raw, 'the request body');
    v.onlyKeys(body, ['payload', 'timeoutSeconds', 'responseTimeoutInSeconds'], 'the request body');
    const timeout = body.timeoutSeconds ?? body.responseTimeoutInSeconds;
    return [200, await b.invokeMethod(id, name, body.payload ?? null, timeout as number | undefined)];
  }
  if (what === 'c2d' && moduleId === null) {
    if (method !== 'POST') notAllowed(method, path);
    return [202, b.sendC2d(deviceId, parseCloudMessage(await readJson(req)))];
  }
  if (verb === 'inputs' && name !== undefined && rest.length === 2 && moduleId !== null) {
    if (method !== 'POST') notAllowed(method, path);
    return [202, b.sendInput({ deviceId, moduleId }, name, parseCloudMessage(await readJson(req)))];
  }
  throw new EmulatorError('NotFound', `No route ${path}`);
}

function added(deviceId: string, moduleId: string | null, b: ServiceBackend): Reply {
  const r = b.addIdentity(deviceId, moduleId);
  return [r.created ? 201 : 200, { deviceId, moduleId, key: r.key, connectionString: r.connectionString }];
}

function faults(raw: unknown, b: ServiceBackend): unknown {
  const body = v.object(raw, 'the request body');
  v.onlyKeys(body, ['dropConnections', 'deviceId', 'moduleId', 'stopAcks', 'refuseAuth', 'delayMs'], 'the request body');
  const patch: Partial<Faults> = {};
  const stopAcks = v.optionalBoolean(body.stopAcks, 'stopAcks');
  const refuseAuth = v.optionalBoolean(body.refuseAuth, 'refuseAuth');
  const delayMs = v.optionalInteger(body.delayMs, 'delayMs', 0, 600_000);
  if (stopAcks !== undefined) patch.stopAcks = stopAcks;
  if (refuseAuth !== undefined) patch.refuseAuth = refuseAuth;
  if (delayMs !== undefined) patch.delayMs = delayMs;
  b.setFaults(patch);
  let dropped = 0;
  if (v.optionalBoolean(body.dropConnections, 'dropConnections')) {
    const deviceId = v.optionalString(body.deviceId, 'deviceId');
    const moduleId = v.optionalString(body.moduleId, 'moduleId') ?? null;
    dropped = b.drop(deviceId === undefined ? undefined : { deviceId, moduleId });
  }
  return { faults: b.faults(), dropped };
}

/** Server-sent events (default) or NDJSON (`?format=ndjson` or `Accept: application/x-ndjson`). */
function stream(req: http.IncomingMessage, res: http.ServerResponse, b: ServiceBackend, url: URL, q: MessageQuery): void {
  const ndjson = url.searchParams.get('format') === 'ndjson' || (req.headers.accept ?? '').includes('application/x-ndjson');
  res.writeHead(200, {
    'content-type': ndjson ? 'application/x-ndjson' : 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  res.flushHeaders(); // a follower sees the stream open before the first message
  const write = (m: ReceivedMessage) => res.write(ndjson ? JSON.stringify(m) + '\n' : `id: ${m.seq}\nevent: message\ndata: ${JSON.stringify(m)}\n\n`);
  // replay only when the caller said from where; otherwise follow from now
  if (q.since !== undefined || q.after !== undefined) for (const m of b.query(q)) write(m);
  const live: MessageQuery = { deviceId: q.deviceId, moduleId: q.moduleId };
  const stop = b.follow((m) => {
    if ((live.deviceId === undefined || m.deviceId === live.deviceId) && (live.moduleId === undefined || m.moduleId === live.moduleId)) write(m);
  });
  const beat = setInterval(() => res.write(ndjson ? '\n' : ': keep-alive\n\n'), HEARTBEAT_MS);
  beat.unref();
  res.on('close', () => {
    stop();
    clearInterval(beat);
  });
}
