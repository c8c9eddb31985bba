// The emulator's file server: HTTPS on loopback with the emulator's own certificate, serving
// <state>/files/<name> (GET and HEAD, with Range so downloads resume), so model packages can
// be published to a device with no cloud. `publishFile` copies a file there under its hash.
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import type net from 'node:net';
import path from 'node:path';
import type { EmulatorLogger } from './types.js';

/** Served names: one path segment, no dot first (so no `..` and no hidden files). */
const NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}$/;

export function filesDir(stateDir: string): string {
  return path.join(stateDir, 'files');
}

export class FileServer {
  readonly port: number;
  readonly #server: https.Server;
  readonly #sockets = new Set<net.Socket>();

  private constructor(server: https.Server, port: number) {
    this.#server = server;
    this.port = port;
    server.on('connection', (s: net.Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  static async start(opts: { stateDir: string; port: number; keyPem: string; certPem: string; logger: EmulatorLogger }): Promise<FileServer> {
    const dir = filesDir(opts.stateDir);
    fs.mkdirSync(dir, { recursive: true });
    const server = https.createServer({ key: opts.keyPem, cert: opts.certPem }, (req, res) => serve(dir, req, res, opts.logger));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new FileServer(server, (server.address() as net.AddressInfo).port);
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function serve(dir: string, req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, logger: EmulatorLogger): void {
  const fail = (status: number, message: string) => {
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(message + '\n');
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') return fail(405, 'GET or HEAD only');
  const [, encoded] = /^\/files\/([^/?#]+)$/.exec((req.url ?? '').split('?')[0] ?? '') ?? [];
  const name = encoded === undefined ? '' : decodeURIComponent(encoded);
  if (!NAME.test(name)) return fail(404, 'no such file');
  const file = path.join(dir, name);
  let size: number;
  try {
    const st = fs.lstatSync(file);
    if (!st.isFile()) return fail(404, 'no such file');
    size = st.size;
  } catch {
    return fail(404, 'no such file');
  }
  let start = 0;
  let end = size - 1;
  const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
  if (req.headers.range !== undefined) {
    if (!range || Number(range[1]) >= size) {
      res.writeHead(416, { 'content-range': `bytes */${size}` });
      return void res.end();
    }
    start = Number(range[1]);
    if (range[2]) end = Math.min(end, Number(range[2]));
  }
  const headers = { 'content-type': 'application/octet-stream', 'content-length': String(end - start + 1), 'accept-ranges': 'bytes' };
  if (range) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${size}` });
  else res.writeHead(200, headers);
  logger.info({ file: name, start, bytes: end - start + 1 }, 'file served');
  if (req.method === 'HEAD' || size === 0) return void res.end();
  fs.createReadStream(file, { start, end }).pipe(res);
}

/** Copies `src` into <state>/files/ as `<sha256 prefix>-<name>` and returns its name and hash. */
export async function publishFile(stateDir: string, src: string): Promise<{ name: string; sha256: string; size: number }> {
  const h = crypto.createHash('sha256');
  for await (const c of fs.createReadStream(src)) h.update(c as Buffer);
  const sha256 = h.digest('hex');
  const base = path
    .basename(src)
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/^[.]+/, '');
  const name = `${sha256.slice(0, 12)}-${base || 'package.zip'}`;
  const dir = filesDir(stateDir);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${name}.tmp`);
  fs.copyFileSync(src, tmp);
  fs.renameSync(tmp, path.join(dir, name));
  return { name, sha256, size: fs.statSync(path.join(dir, name)).size };
}
