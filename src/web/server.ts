// The HTTP side of the preview: routes, the token gate, hardening headers, and listening
// with a typed error when the port is taken. Serves no files, so there is no path to traverse.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import { PerceptError } from '../errors.js';
import type { Gate } from './auth.js';
import type { FrameHub } from './stream.js';
import type { HealthAnswer } from './health.js';
import { PAGE_CSP, PAGE_HTML } from './page.js';
import { scrubDeep } from './view.js';
import type { EventReader } from '../events/types.js';
import { eventView } from '../events/view.js';

export interface Routes {
  gate: Gate;
  hub: FrameHub;
  logger: Logger;
  metrics: () => Promise<{ body: string; contentType: string }>;
  healthz: () => HealthAnswer;
  readyz: () => HealthAnswer;
  /** The default source of /stream (MJPEG carries one picture stream). */
  firstSource: () => string | null;
  /** The recent track events and their snapshots; null while the pipeline keeps none. */
  events: () => EventReader | null;
  /** Whether the page and its streams are served (health and metrics always are). */
  page: () => boolean;
}

/** Events the page asks for at most (it lists the newest few). */
const MAX_RECENT = 200;

/** Routes anyone who can reach the port may use: orchestrators probe without credentials. */
const OPEN = new Set(['/healthz', '/readyz']);

/** Routes of the page, served only while the preview is enabled. */
const PAGE = new Set(['/', '/events', '/stream', '/recent-events', '/event-snapshot']);

const BASE_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

function json(res: ServerResponse, status: number, body: unknown, head: boolean): void {
  const text = JSON.stringify(scrubDeep(body));
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(head ? undefined : text);
}

export function createHandler(r: Routes): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    for (const [k, v] of Object.entries(BASE_HEADERS)) res.setHeader(k, v);
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD');
      json(res, 405, { error: 'only GET and HEAD are served' }, false);
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://preview.invalid');
    } catch {
      json(res, 400, { error: 'bad request target' }, head);
      return;
    }
    const path = url.pathname;
    const auth = r.gate.check(req, url, OPEN.has(path));
    if (!auth.ok) {
      if (auth.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="percept preview"');
      json(res, auth.status, { error: auth.reason }, head);
      return;
    }
    try {
      route(r, path, url, res, head);
    } catch (e) {
      // A failing status getter must cost one request, never the process.
      r.logger.warn({ path, err: (e as Error).message }, 'preview request failed');
      if (!res.headersSent) json(res, 500, { error: 'internal error' }, head);
      else res.destroy();
    }
  };
}

function route(r: Routes, path: string, url: URL, res: ServerResponse, head: boolean): void {
  if (PAGE.has(path) && !r.page()) {
    json(res, 404, { error: 'the preview is disabled (preview.enabled is false): this port serves /healthz, /readyz and /metrics only' }, head);
    return;
  }
  switch (path) {
    case '/':
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': PAGE_CSP, 'Content-Length': Buffer.byteLength(PAGE_HTML) });
      res.end(head ? undefined : PAGE_HTML);
      return;
    case '/events':
    case '/stream': {
      if (head) {
        res.writeHead(200, { 'Content-Type': path === '/events' ? 'text/event-stream' : 'multipart/x-mixed-replace' });
        res.end();
        return;
      }
      if (r.hub.full) {
        res.setHeader('Retry-After', '5');
        json(res, 503, { error: 'too many preview clients; close another page first' }, false);
        return;
      }
      if (path === '/events') r.hub.addSse(res);
      else r.hub.addMjpeg(res, url.searchParams.get('source') ?? r.firstSource());
      return;
    }
    case '/metrics':
      r.metrics().then(
        ({ body, contentType }) => {
          res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
          res.end(head ? undefined : body);
        },
        (e: unknown) => {
          r.logger.warn({ err: (e as Error).message }, 'metrics collection failed');
          json(res, 500, { error: 'metrics collection failed' }, head);
        },
      );
      return;
    case '/recent-events': {
      const since = Number(url.searchParams.get('since') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? 50);
      if (!Number.isFinite(since) || since < 0 || !Number.isInteger(limit) || limit < 1 || limit > MAX_RECENT) {
        json(res, 400, { error: `expected since=<ms since the epoch> and limit=1..${MAX_RECENT}` }, head);
        return;
      }
      const reader = r.events();
      json(res, 200, { events: reader ? reader.list({ since, limit }).map(eventView) : [] }, head);
      return;
    }
    case '/event-snapshot': {
      const id = url.searchParams.get('id') ?? '';
      const reader = r.events();
      if (!id || id.length > 256) {
        json(res, 400, { error: 'expected id=<track id>' }, head);
        return;
      }
      if (!reader) {
        json(res, 404, { error: 'no events are kept' }, head);
        return;
      }
      reader.snapshot(id).then(
        (jpeg) => {
          if (!jpeg) return json(res, 404, { error: 'no snapshot for this track (unknown or expired)' }, head);
          res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': jpeg.length });
          res.end(head ? undefined : jpeg);
        },
        (e: unknown) => {
          r.logger.warn({ err: (e as Error).message }, 'event snapshot failed');
          if (!res.headersSent) json(res, 500, { error: 'snapshot failed' }, head);
        },
      );
      return;
    }
    case '/healthz':
    case '/readyz': {
      const a = path === '/healthz' ? r.healthz() : r.readyz();
      json(res, a.status, a.body, head);
      return;
    }
    default:
      json(res, 404, { error: 'not found', routes: ['/', '/events', '/stream', '/recent-events', '/event-snapshot', '/metrics', '/healthz', '/readyz'] }, head);
  }
}

/** Listens, or throws ERR_PREVIEW saying what to change (the caller warns and runs on). */
export async function listen(server: http.Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      const why =
        e.code === 'EADDRINUSE'
          ? `port ${port} on ${host} is already in use; choose another with --preview-port (0 picks a free one; preview.port in a config file) or disable it with --no-preview`
          : e.code === 'EACCES'
            ? `no permission to listen on ${host}:${port}; use a port above 1023`
            : e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND'
              ? `address ${host} is not on this machine; set --preview-host (preview.host in a config file) to 127.0.0.1 or one of its addresses`
              : `cannot listen on ${host}:${port} (${e.code ?? e.message})`;
      reject(new PerceptError('ERR_PREVIEW', `preview server: ${why}`, { cause: e }));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port });
  });
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : port;
}
