// Small HTTP helpers shared by the service API and the workload API: bounded JSON bodies,
// JSON replies, the `{error:{code,message}}` shape, and closing a server with its sockets.
import type http from 'node:http';
import type net from 'node:net';
import { EmulatorError } from './errors.js';
import { parseJson } from './json.js';

/** Largest request body accepted: a 128 KB method payload plus JSON overhead, with room to spare. */
export const MAX_BODY_BYTES = 1024 * 1024;

export async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new EmulatorError('MessageTooLarge', `Request body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  return parseJson(text, 'Request body');
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: http.ServerResponse, err: unknown): void {
  const e = EmulatorError.is(err) ? err : new EmulatorError('StateInvalid', (err as Error)?.message ?? String(err));
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, e.status, e.toJSON());
}

/** Tracks sockets so close() does not wait for idle keep-alive or streaming connections. */
export function trackSockets(server: http.Server): () => Promise<void> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
}
