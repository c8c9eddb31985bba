// The IoT Edge side: iotedged's workload API on a unix socket (sign with a module's key, hand out
// the trust bundle) and the environment IoT Edge gives a module, so that
// `ModuleClient.fromEnvironment(Mqtt)` connects to this emulator.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { EmulatorError } from './errors.js';
import { readJson, sendJson, trackSockets } from './http-util.js';
import type { Registry } from './registry.js';
import { hmacBase64 } from './sas.js';
import type { EmulatorLogger } from './types.js';

export const WORKLOAD_API_VERSION = '2018-06-28';
/** Unix socket paths are limited to 108 bytes including the terminator. */
const MAX_SOCKET_PATH = 100;

/** `<state>/workload.sock`, or a short path in the temp folder when the state path is too long. */
export function workloadSocketPath(stateDir: string): string {
  const p = path.join(path.resolve(stateDir), 'workload.sock');
  if (Buffer.byteLength(p) <= MAX_SOCKET_PATH) return p;
  const hash = crypto.createHash('sha256').update(path.resolve(stateDir)).digest('hex').slice(0, 16);
  return path.join(os.tmpdir(), `percept-hub-${hash}.sock`);
}

export interface WorkloadOptions {
  socketPath: string;
  registry: Registry;
  caPem: string;
  logger: EmulatorLogger;
}

export class WorkloadApi {
  readonly socketPath: string;
  #server: http.Server;
  #close: () => Promise<void>;

  private constructor(server: http.Server, socketPath: string) {
    this.#server = server;
    this.socketPath = socketPath;
    this.#close = trackSockets(server);
  }

  static async start(opts: WorkloadOptions): Promise<WorkloadApi> {
    fs.rmSync(opts.socketPath, { force: true }); // a stale socket from a crashed run
    const server = http.createServer((req, res) => {
      handle(req, opts).then(
        ([status, body]) => sendJson(res, status, body),
        (err: unknown) => {
          // iotedged's error shape is {message}
          const e = EmulatorError.is(err) ? err : new EmulatorError('StateInvalid', String(err));
          opts.logger.warn({ url: req.url, err: e.message }, 'workload API request failed');
          sendJson(res, e.status, { message: e.message });
        },
      );
    });
    const api = new WorkloadApi(server, opts.socketPath);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    fs.chmodSync(opts.socketPath, 0o600);
    return api;
  }

  async close(): Promise<void> {
    await this.#close();
    fs.rmSync(this.socketPath, { force: true });
  }
}

async function handle(req: http.IncomingMessage, opts: WorkloadOptions): Promise<[number, unknown]> {
  const url = new URL(req.url ?? '/', 'http://workload');
  if (!url.searchParams.get('api-version')) throw new EmulatorError('BadRequest', 'api-version query parameter is required');
  if (req.method === 'GET' && url.pathname === '/trust-bundle') return [200, { certificate: opts.caPem }];
  const [, mod, gen] = /^\/modules\/([^/]+)\/genid\/([^/]+)\/sign$/.exec(url.pathname) ?? [];
  if (req.method === 'POST' && mod !== undefined && gen !== undefined) {
    const moduleId = decodeURIComponent(mod);
    const generationId = decodeURIComponent(gen);
    const found = opts.registry.byGeneration(moduleId, generationId);
    if (!found) throw new EmulatorError('ModuleNotFound', `Module ${moduleId} with generation ${generationId} is not registered`);
    const body = (await readJson(req)) as { keyId?: unknown; algo?: unknown; data?: unknown } | undefined;
    if (!body || body.keyId !== 'primary' || body.algo !== 'HMACSHA256' || typeof body.data !== 'string') {
      throw new EmulatorError('BadRequest', 'Expected {keyId:"primary", algo:"HMACSHA256", data:<base64>} as the sign request');
    }
    return [200, { digest: hmacBase64(found.key, Buffer.from(body.data, 'base64')) }];
  }
  throw new EmulatorError('NotFound', `No workload route ${req.method} ${url.pathname}`);
}
