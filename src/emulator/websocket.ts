// MQTT over WebSockets as IoT Hub serves it: WSS on the emulator's TLS certificate, path
// `/$iothub/websocket`, subprotocol `mqtt`. Each WebSocket becomes a duplex stream the broker
// serves like a TLS socket; the TLS layer asks for a client certificate for X.509 devices.
import type { Duplex } from 'node:stream';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type tls from 'node:tls';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { EmulatorLogger } from './types.js';

export const WEBSOCKET_PATH = '/$iothub/websocket';

export interface WebSocketFrontOptions {
  port: number;
  tls: { keyPem: string; certPem: string };
  /** Gets each connection's MQTT byte stream and the TLS socket under it. */
  onStream: (stream: Duplex, socket: tls.TLSSocket, req: http.IncomingMessage) => void;
  logger: EmulatorLogger;
}

/** An MQTT packet is one WebSocket message; above IoT Hub's 256 KB the hub itself answers. */
const MAX_PAYLOAD = 1024 * 1024;

export class WebSocketFront {
  #server: https.Server;
  #wss: WebSocketServer;
  #sockets = new Set<net.Socket>();

  private constructor(server: https.Server, wss: WebSocketServer) {
    this.#server = server;
    this.#wss = wss;
  }

  static async start(opts: WebSocketFrontOptions): Promise<WebSocketFront> {
    const server = https.createServer({
      key: opts.tls.keyPem,
      cert: opts.tls.certPem,
      minVersion: 'TLSv1.2',
      // as on the TLS port: the certificate is requested, and judged at CONNECT
      requestCert: true,
      rejectUnauthorized: false,
    });
    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD, handleProtocols: () => 'mqtt' });
    const front = new WebSocketFront(server, wss);
    server.on('connection', (s: net.Socket) => {
      front.#sockets.add(s);
      s.on('close', () => front.#sockets.delete(s));
    });
    server.on('request', (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' }).end(`MQTT over WebSockets is served at ${WEBSOCKET_PATH}\n`);
    });
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const pathname = new URL(req.url ?? '/', 'https://hub').pathname;
      const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
      const fail = (status: number, why: string) => {
        opts.logger.info({ path: pathname, why }, 'WebSocket upgrade refused');
        socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      };
      if (pathname !== WEBSOCKET_PATH) return fail(404, `not ${WEBSOCKET_PATH}`);
      if (!protocols.includes('mqtt')) return fail(400, 'the client did not offer the mqtt subprotocol');
      wss.handleUpgrade(req, socket, head, (ws) => {
        const stream = createWebSocketStream(ws);
        // the stream's errors (a peer gone mid-frame) end that connection only
        stream.on('error', (err) => opts.logger.debug({ err: err.message }, 'WebSocket stream error'));
        opts.onStream(stream, req.socket as tls.TLSSocket, req);
      });
    });
    server.on('tlsClientError', (err) => opts.logger.debug({ err: err.message }, 'TLS handshake failed (WebSocket port)'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return front;
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const ws of this.#wss.clients) ws.terminate();
    this.#wss.close();
    for (const s of this.#sockets) s.destroy();
    await closed;
  }
}

/** IoT Hub's WebSocket port, and the only one the SDK's MqttWs transport dials. */
export const WEBSOCKET_PORT = 443;

/**
 * `auto` serves 443 when this process may bind it there and it is free, else nothing, with the
 * reason in `note`; a number must be served (0 picks a free port) and its errors are thrown.
 */
export async function startWebSocketPort(
  port: number | 'auto',
  opts: Omit<WebSocketFrontOptions, 'port'>,
): Promise<{ front: WebSocketFront | null; note: string }> {
  const served = (front: WebSocketFront) => ({ front, note: `wss://localhost:${front.port}${WEBSOCKET_PATH}` });
  if (port !== 'auto') return served(await WebSocketFront.start({ ...opts, port }));
  try {
    return served(await WebSocketFront.start({ ...opts, port: WEBSOCKET_PORT }));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES') return { front: null, note: `off: port ${WEBSOCKET_PORT} needs root (or CAP_NET_BIND_SERVICE); --ws-port N serves another port` };
    if (code === 'EADDRINUSE') return { front: null, note: `off: port ${WEBSOCKET_PORT} on 127.0.0.1 is in use; --ws-port N serves another port` };
    throw err;
  }
}
