// The local preview server: a live page of frames, detections and tracks (with the sources'
// zones and lines, and the recent track events with their snapshots), /metrics for
// Prometheus, /healthz and /readyz for orchestrators. The page and its streams can be switched
// off; health and metrics are served whatever that switch says, as orchestrators probe them.
// It listens to the pipeline's results always and to its frames only while a page or stream
// is open; the pipeline can be swapped under it.

import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import type { Logger } from '../log.js';
import type { AgentStatus } from '../status.js';
import type { InferenceResult } from '../inference/pool.js';
import type { LoadedModel } from '../pipeline/model.js';
import type { PipelineStatus, TappedFrame } from '../pipeline/pipeline.js';
import { PerceptError } from '../errors.js';
import { Gate, generateToken } from './auth.js';
import { isLoopbackHost } from '../loopback.js';
import { PreviewMetrics } from './metrics.js';
import type { Metrics } from '../metrics.js';
import { FrameHub } from './stream.js';
import { defaultLivenessMs, liveness, readiness } from './health.js';
import { scrubDeep, statusView } from './view.js';
import { createHandler, listen } from './server.js';
import type { EventReader, PerceptEvent } from '../events/types.js';
import { eventView } from '../events/view.js';

type FrameFn = (f: TappedFrame) => void;
type ResultFn = (r: InferenceResult, m: LoadedModel) => void;

/** What the preview needs of a pipeline; a Pipeline satisfies it. */
export interface PreviewPipeline {
  on(ev: 'frame', fn: FrameFn): unknown;
  on(ev: 'result', fn: ResultFn): unknown;
  off(ev: 'frame', fn: FrameFn): unknown;
  off(ev: 'result', fn: ResultFn): unknown;
  /** When present, the frame rate and model gauges read this pipeline's own figures. */
  status?(): PipelineStatus;
  /** The registry the pipeline counts in: /metrics renders it unless PreviewOptions.metrics names one. */
  readonly metrics?: Metrics;
}

/** A source's zones and lines as configured (normalised points), drawn over its pictures. */
export interface SourceLayout {
  id: string;
  zones: Array<{ name: string; points: Array<[number, number]> }>;
  lines: Array<{ name: string; points: Array<[number, number]> }>;
}

export interface PreviewOptions {
  /** Default 127.0.0.1 (from config). */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Required off loopback: generated (and printed once) when missing. */
  token?: string;
  /** Cap on pictures per second and source pushed to pages and streams. */
  maxFps: number;
  logger: Logger;
  pipeline: PreviewPipeline;
  status: () => AgentStatus;
  /** The agent's metrics registry, which /metrics renders; the pipeline's and the hub's series count there. */
  metrics?: Metrics;
  /** /healthz fails when the last result is older; default max(10 s, 5 telemetry intervals). */
  livenessMs?: number;
  /** Before the first result, /healthz passes this long after the agent started (default 60 s). */
  graceMs?: number;
  /** Open /events and /stream clients at once (default 16). */
  maxClients?: number;
  /** The sources' zones and lines (read on every status tick, so live changes show). */
  layout?: () => SourceLayout[];
  /** The recent track events and their snapshots (/recent-events, /event-snapshot); null while there are none. */
  events?: () => EventReader | null;
  /** Serve the page and its streams (default true); false leaves /healthz, /readyz and /metrics only. */
  page?: boolean;
}

export interface PreviewServer {
  /** A local address of the page, without the token. */
  url: string;
  port: number;
  /** The token in force (given or generated); undefined when none is needed. */
  token?: string;
  setPipeline(p: PreviewPipeline): void;
  /** Time from a window closing to its hand-over to the hub link, for percept_stage_seconds{stage="publish"}. */
  observePublish(seconds: number): void;
  /** A track event, sent to the open pages. */
  pushEvent(e: PerceptEvent): void;
  /** Switches the page and its streams on or off (off closes the open ones); health and metrics stay. */
  setPage(on: boolean): void;
  close(): Promise<void>;
}

function hostForUrl(host: string, local: boolean): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return local ? (host === '::' ? '[::1]' : '127.0.0.1') : os.hostname();
  return net.isIPv6(host) ? `[${host}]` : host;
}

export async function startPreview(opts: PreviewOptions): Promise<PreviewServer> {
  const log = opts.logger;
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    throw new PerceptError('ERR_PREVIEW', `preview server: expected an integer port between 0 and 65535 but received ${opts.port}`);
  }
  if (!(opts.maxFps > 0)) throw new PerceptError('ERR_PREVIEW', `preview server: expected a positive maxFps but received ${opts.maxFps}`);
  const loopback = isLoopbackHost(opts.host);
  const generated = !opts.token && !loopback;
  // A configured token is enforced on loopback too: whoever set it expects it to matter.
  const token = opts.token ?? (loopback ? undefined : generateToken());

  let pipeline = opts.pipeline;
  let page = opts.page ?? true;
  let lastResultAt: number | null = null;
  const metrics = new PreviewMetrics(opts.metrics ?? opts.pipeline.metrics);
  const pipelineStatus = () => pipeline.status?.() ?? opts.status().pipeline;
  const onResult: ResultFn = (r) => {
    lastResultAt = Date.now();
    metrics.onResult(r, lastResultAt);
  };
  const onFrame: FrameFn = (f) => hub.push(f);
  const hub = new FrameHub({
    maxFps: opts.maxFps,
    maxClients: opts.maxClients ?? 16,
    logger: log,
    // Listening to 'frame' makes the pipeline copy every frame: only while someone watches.
    onActive: (active) => (active ? pipeline.on('frame', onFrame) : pipeline.off('frame', onFrame)),
    statusMessage: () => ({ ...statusView(opts.status()), layout: scrubDeep(opts.layout?.() ?? []) }),
  });
  const healthWindow = () => {
    const s = opts.status();
    const livenessMs = opts.livenessMs ?? defaultLivenessMs(s);
    return { s, w: { livenessMs, graceMs: opts.graceMs ?? Math.max(60_000, livenessMs) } };
  };
  const server = http.createServer(
    createHandler({
      gate: new Gate({ token, loopback, logger: log }),
      hub,
      logger: log,
      metrics: async () => {
        metrics.update(pipelineStatus(), hub.clients);
        return { body: await metrics.render(), contentType: metrics.contentType };
      },
      healthz: () => {
        const { s, w } = healthWindow();
        return liveness(s, lastResultAt, w);
      },
      readyz: () => readiness(opts.status(), lastResultAt),
      firstSource: () => pipelineStatus().sources[0]?.id ?? null,
      events: () => opts.events?.() ?? null,
      page: () => page,
    }),
  );
  // Streams stay open for hours; only the request head has a deadline.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;

  const port = await listen(server, opts.host, opts.port);
  pipeline.on('result', onResult);
  const url = `http://${hostForUrl(opts.host, true)}:${port}/`;
  log.info(
    { url, host: opts.host, port, maxFps: opts.maxFps, auth: token ? 'token' : 'loopback', page },
    page ? 'preview listening' : 'health and metrics listening (the preview page is disabled)',
  );
  if (generated) {
    // The one line that carries the token, as the user has no other way to learn it. The
    // logger scrubs any `token=` pair (so no copy-paste URL), so it rides in its own field.
    log.info(
      { page: `http://${hostForUrl(opts.host, false)}:${port}/`, access: token },
      'preview is reachable beyond this machine and needs the generated access token: add it to the page address as the "token" query parameter, or send "Authorization: Bearer <access>"; set preview.token to choose your own',
    );
  }

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    token,
    setPipeline(p: PreviewPipeline): void {
      if (p === pipeline) return;
      pipeline.off('result', onResult);
      if (hub.clients > 0) pipeline.off('frame', onFrame);
      pipeline = p;
      pipeline.on('result', onResult);
      if (hub.clients > 0) pipeline.on('frame', onFrame);
    },
    observePublish: (seconds: number) => metrics.observePublish(seconds),
    pushEvent: (e: PerceptEvent) => hub.broadcast('track', scrubDeep(eventView(e))),
    setPage(on: boolean): void {
      if (on === page) return;
      page = on;
      if (!on) hub.close();
      log.info({ port, page }, on ? 'preview page enabled' : 'preview page disabled; /healthz, /readyz and /metrics stay');
    },
    close(): Promise<void> {
      closing ??= (async () => {
        hub.close();
        pipeline.off('result', onResult);
        pipeline.off('frame', onFrame);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        log.debug({ port }, 'preview closed');
      })();
      return closing;
    },
  };
}
