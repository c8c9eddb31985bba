// Shared pieces of the preview tests: a real YOLOX-Nano pipeline on the shared images, an
// agent status built from it, a logger whose lines the test can read, and small HTTP helpers.
import http from 'node:http';
import { Writable } from 'node:stream';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { parseConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { createLogger, type Logger } from '../../src/log.js';
import type { Metrics } from '../../src/metrics.js';
import type { AgentStatus, HubStatus } from '../../src/status.js';
import { startPreview, type PreviewServer } from '../../src/web/index.js';
import { YOLOX_NANO, image } from '../helpers/paths.js';

export const DOG_LOOP = [{ id: 'dog', kind: 'image' as const, uri: image('dog.jpg'), loop: true, fps: 10 }];

/** `metrics`: a registry to count in, shared with an earlier pipeline as the agent does (default: the pipeline's own). */
export async function startPipeline(sources: ConfigInput['sources'] = DOG_LOOP, workers = 1, logger?: Logger, metrics?: Metrics): Promise<Pipeline> {
  const cfg = parseConfig({ sources, model: { name: 'yolox-nano', path: YOLOX_NANO }, workers, threads: 1, output: 'none' });
  const p = new Pipeline(cfg, { logger: logger ?? createLogger({ level: 'silent' }), metrics });
  await p.start();
  return p;
}

/** The snapshot cli.ts would hand the preview, built from a live pipeline. */
export function statusGetter(get: () => Pipeline, hub: () => HubStatus | null = () => null): () => AgentStatus {
  const started = Date.now();
  return () => ({
    version: '0.1.0-test',
    startedAt: new Date(started).toISOString(),
    uptimeS: (Date.now() - started) / 1000,
    pipeline: get().status(),
    hub: hub(),
    telemetry: { intervalMs: 1000, schema: 'percept/v1' },
    config: { version: null, error: null },
  });
}

/** A JSON logger writing into memory, so tests can search every line it wrote. */
export function memoryLogger(level: 'info' | 'debug' = 'debug'): { logger: Logger; text: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { logger: createLogger({ level, pretty: false, destination }), text: () => chunks.join('') };
}

export interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request to 127.0.0.1 (tests reach servers over loopback only). */
export function get(port: number, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout on ${path}`)));
    req.on('error', reject);
    req.end();
  });
}

/** Opens a streaming GET and collects bytes until `until` says stop or `ms` pass, then hangs up. */
export function streamFor(
  port: number,
  path: string,
  ms: number,
  until?: (received: Buffer) => boolean,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; data: Buffer }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    // A server that never answers fails the test instead of hanging it.
    const noAnswer = setTimeout(() => req.destroy(new Error(`no response on ${path} within ${ms} ms`)), ms);
    const req = http.get({ host: '127.0.0.1', port, path }, (res) => {
      clearTimeout(noAnswer);
      const finish = () => {
        clearTimeout(timer);
        req.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, data: Buffer.concat(chunks) });
      };
      const timer = setTimeout(finish, ms);
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        if (until?.(Buffer.concat(chunks))) finish();
      });
      res.on('end', finish);
    });
    req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
  });
}

export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A preview of `pipeline` with a short liveness window (1.5 s) for the health tests. */
export function healthPreview(pipeline: Pipeline, logger: Logger): Promise<PreviewServer> {
  return startPreview({ host: '127.0.0.1', port: 0, maxFps: 10, logger, pipeline, status: statusGetter(() => pipeline), livenessMs: 1500, graceMs: 20_000 });
}
