// The running agent's assembly: opens the outbox, the hub link, the sender and the signer,
// starts the pipeline, the telemetry path (telemetry.ts) and the preview, applies a new
// configuration rebuilding only what changed, and stops it all in order. Status: status.ts.

import path from 'node:path';
import { originOf, type Config } from '../config/schema.js';
import { FILE_CAPS, readRegularFileSync } from '../read-file.js';
import type { Logger } from '../log.js';
import { Pipeline } from '../pipeline/pipeline.js';
import type { InferenceResult } from '../inference/pool.js';
import type { WorkerFaults } from '../inference/protocol.js';
import type { LoadedModel } from '../pipeline/model.js';
import type { PerceptEvent } from '../events/types.js';
import { Outbox } from '../hub/outbox.js';
import type { Signer } from '../attest/signer.js';
import type { Tpm } from '../attest/tpm.js';
import { HubLink } from '../hub/link.js';
import { Sender } from '../hub/sender.js';
import type { AgentStatus } from '../status.js';
import type { PerceptError } from '../errors.js';
import { startPreview, type PreviewServer } from '../web/index.js';
import { Follower, Metrics } from '../metrics.js';
import { hubMetrics } from '../hub/metrics.js';
import { TelemetryPath } from './telemetry.js';
import { agentStatus } from './status.js';
import { allTallies, eventFeed, layoutOf, sourceTallies } from './events.js';

export interface AgentOptions {
  logger: Logger;
  /** Tests only: worker faults for every pool, or per model (see the pipeline). */
  faultInjection?: boolean | ((model: LoadedModel) => WorkerFaults);
  /** Called for every result (jsonl / summary output). */
  onResult?: (r: InferenceResult, m: LoadedModel) => void;
  /** Called for every track event (new, update, end), in capture order per source (events output). */
  onEvent?: (e: PerceptEvent) => void;
}

/** A PEM file named by the configuration; `from` says where (`--ca`, `PERCEPT_CA`, a config key). */
function readPem(file: string | undefined, what: string, from: string): string | undefined {
  if (!file) return undefined;
  return readRegularFileSync(file, { what: `${what} (from ${from})`, maxBytes: FILE_CAPS.pem, openCode: 'ERR_CONFIG', hint: `check ${from}` }).toString('utf8');
}

export class Agent {
  readonly #log: Logger;
  readonly #opts: AgentOptions;
  #cfg: Config;
  #pipeline: Pipeline | null = null;
  #telemetry: TelemetryPath | null = null;
  #outbox: Outbox | null = null;
  #link: HubLink | null = null;
  #sender: Sender | null = null;
  #preview: PreviewServer | null = null;
  #signer: Signer | null = null;
  /** One TPM connection shared by the signer and the TPM-held SAS key (swtpm serves one client). */
  #tpm: Promise<Tpm> | null = null;
  #ended: () => void = () => undefined;
  readonly ended: Promise<void>;
  readonly #startedAt = Date.now();
  /** One registry for the agent's life: rebuilt pipelines and a restarted preview continue its series. */
  readonly #metrics = new Metrics();
  /** Twin state, set by the control plane. */
  configVersion: number | null = null;
  configError: string | null = null;
  /** Over-the-air model updates (set by the twin control when there is a hub). */
  modelUpdates: { close(requested?: boolean): void; readonly counts: Readonly<Record<string, number>> } | null = null;

  constructor(cfg: Config, opts: AgentOptions) {
    this.#cfg = cfg;
    this.#opts = opts;
    this.#log = opts.logger;
    // The hub's series exist, at 0, when no hub is configured: dashboards and alerts find them.
    hubMetrics(this.#metrics);
    // Model updates finished, by result; their owner counts them, the registry follows it.
    const updates = this.#metrics.counter('percept_model_updates_total', 'Over-the-air model updates finished, by result: active, failed, rolledBack', [
      'result',
    ]);
    const followers = (['active', 'failed', 'rolledBack'] as const).map((result) => {
      updates.zero({ result });
      return { result, follow: new Follower(updates, { result }) };
    });
    this.#metrics.onCollect(() => {
      for (const f of followers) f.follow.update(this.modelUpdates?.counts[f.result] ?? 0);
    });
    this.ended = new Promise((resolve) => (this.#ended = resolve));
  }

  get config(): Config {
    return this.#cfg;
  }
  get logger(): Logger {
    return this.#log;
  }
  get pipeline(): Pipeline | null {
    return this.#pipeline;
  }
  /** The checkpoint signer (a TpmSigner answers the `attest` method). */
  get signer(): Signer | null {
    return this.#signer;
  }
  get link(): HubLink | null {
    return this.#link;
  }

  /** Opens the outbox and the hub link (if configured), then the pipeline and the preview. */
  async start(): Promise<void> {
    await this.openHub();
    await this.startRuntime();
  }

  /** The telemetry path and the hub link, not yet connected (the twin may change the configuration first). */
  async openHub(): Promise<void> {
    const hub = this.#cfg.hub;
    if (hub && (hub.connectionString || hub.edge)) {
      this.#outbox = new Outbox(hub.outbox ?? path.join(this.#cfg.stateDir, 'outbox.db'), {
        maxBytes: hub.outboxMaxBytes,
        ttlSeconds: hub.ttlSeconds,
        whenFull: hub.whenFull,
        logger: this.#log,
      });
      this.#link = new HubLink({
        connectionString: hub.connectionString,
        edge: hub.edge,
        ca: readPem(hub.ca, 'CA certificate', originOf(this.#cfg, 'hub.ca')),
        cert: readPem(hub.cert, 'client certificate', originOf(this.#cfg, 'hub.cert')),
        key: readPem(hub.key, 'client key', originOf(this.#cfg, 'hub.key')),
        transport: hub.transport,
        output: this.#cfg.telemetry.output,
        eventsOutput: this.#cfg.telemetry.eventsOutput,
        logger: this.#log,
        sendTimeoutMs: hub.sendTimeoutMs,
        connectTimeoutMs: hub.connectTimeoutMs,
        tokenTtlSeconds: hub.tokenTtlSeconds,
        backoffMs: [hub.backoffMinMs, Math.max(hub.backoffMinMs, hub.backoffMaxMs)],
        tpm: () => this.#openTpm(),
        metrics: this.#metrics,
      });
      this.#sender = new Sender(this.#outbox, this.#link, this.#log, { window: hub.window, metrics: this.#metrics });
      this.#signer = await this.#openSigner();
      this.#telemetry = new TelemetryPath({
        outbox: this.#outbox,
        sender: this.#sender,
        signer: this.#signer,
        identity: { deviceId: this.#link.deviceId, moduleId: this.#link.moduleId },
        telemetry: this.#cfg.telemetry,
        checkpointMs: this.#cfg.attest.checkpointMs,
        logger: this.#log,
        tallies: (source) => sourceTallies(eventFeed(this.#pipeline), source),
      });
      const pending = this.#outbox.stats().depth;
      if (pending) this.#log.info({ pending }, 'outbox holds messages from an earlier run; sending them first');
      this.#sender.start();
    }
  }

  /** Starts the pipeline and the preview, on `cfg` when given (the configuration the twin chose at boot). */
  async startRuntime(cfg?: Config): Promise<void> {
    if (cfg) {
      if (cfg.logLevel !== this.#cfg.logLevel) this.#log.level = cfg.logLevel;
      this.#telemetry?.configure(cfg.telemetry);
      this.#cfg = cfg;
    }
    await this.#startPipeline();
    await this.#startPreview();
  }

  /**
   * Connects to the hub, once the control plane listens to the twin and methods. Rejects only
   * when the configuration cannot work (ERR_CONFIG); otherwise it retries until connected.
   */
  connect(): Promise<void> {
    return this.#link?.open() ?? Promise.resolve();
  }

  async #startPipeline(): Promise<void> {
    const p = new Pipeline(this.#cfg, {
      logger: this.#log,
      faultInjection: this.#opts.faultInjection,
      metrics: this.#metrics,
      eventDir: path.join(this.#cfg.stateDir, 'events'),
    });
    p.on('result', (r, m) => this.#onResult(r, m));
    p.on('event', (e) => this.#onEvent(e));
    p.on('end', () => {
      if (this.#pipeline === p) this.#ended();
    });
    await p.start();
    this.#pipeline = p;
    this.#preview?.setPipeline(p);
  }

  /** The HTTP listener: /healthz, /readyz and /metrics always (orchestrators probe them), the page only when enabled. */
  async #startPreview(): Promise<void> {
    const pv = this.#cfg.preview;
    if (!this.#pipeline) return;
    try {
      this.#preview = await startPreview({
        host: pv.host,
        port: pv.port,
        token: pv.token,
        maxFps: pv.maxFps,
        logger: this.#log,
        pipeline: this.#pipeline,
        status: () => this.status(),
        metrics: this.#metrics,
        layout: () => layoutOf(this.#cfg.sources),
        events: () => eventFeed(this.#pipeline)?.events ?? null,
        page: pv.enabled,
      });
    } catch (e) {
      const what = pv.enabled ? 'preview' : 'health and metrics endpoints';
      this.#log.warn({ code: (e as PerceptError).code, port: pv.port }, `${what} not started: ${(e as Error).message}`);
    }
  }

  #onResult(r: InferenceResult, m: LoadedModel): void {
    this.#opts.onResult?.(r, m);
    this.#telemetry?.add(r, m, this.#cfg.sources.find((s) => s.id === r.source)?.kind ?? 'unknown');
  }

  /** A track event: to telemetry (as percept.event/1) and to the preview's open pages. */
  #onEvent(e: PerceptEvent): void {
    this.#opts.onEvent?.(e);
    this.#telemetry?.addEvent(e, this.#cfg.sources.find((s) => s.id === e.source)?.kind ?? 'unknown');
    this.#preview?.pushEvent(e);
  }

  #openTpm(): Promise<Tpm> {
    if (this.#tpm) return this.#tpm;
    const opening = import('../attest/tpm.js').then(({ Tpm }) => Tpm.open(this.#cfg.attest.tcti));
    this.#tpm = opening;
    // A failed open is retried by the next caller (the link reconnecting), not cached.
    opening.catch(() => {
      if (this.#tpm === opening) this.#tpm = null;
    });
    return opening;
  }

  async #openSigner(): Promise<Signer | null> {
    const a = this.#cfg.attest;
    if (a.signer === 'none') return null;
    if (a.signer === 'tpm') {
      const { TpmSigner } = await import('../attest/tpm-signer.js');
      return TpmSigner.open({ tpm: await this.#openTpm() });
    }
    const { SoftwareSigner } = await import('../attest/software.js');
    return SoftwareSigner.open(a.keyFile ?? path.join(this.#cfg.stateDir, 'signing-key.pem'));
  }

  /** Applies a new configuration: live where possible, rebuilding the pipeline only when needed. */
  async reconfigure(next: Config): Promise<void> {
    const prev = this.#cfg;
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    // Camera controls are set on the open cameras; they never rebuild the pipeline.
    // Nor do motion settings and masks (the running gates take them), zones, lines and the tracker's settings (configureEvents).
    const pipelineKey = (c: Config) => ({
      s: c.sources.map((x) => ({ ...x, controls: undefined, motion: undefined, motionMasks: undefined, zones: undefined, lines: undefined })),
      m: { ...c.model, scoreThreshold: undefined, iou: undefined },
      w: c.workers,
      t: c.threads,
      p: c.providers,
    });
    const rebuild = !same(pipelineKey(next), pipelineKey(prev));
    // Only the default model changed: it is swapped in under running capture, not rebuilt.
    const swap = rebuild && this.#pipeline !== null && same({ ...pipelineKey(next), m: null }, { ...pipelineKey(prev), m: null });
    if (!rebuild && this.#pipeline) {
      for (const s of next.sources) {
        const before = prev.sources.find((x) => x.id === s.id)?.controls;
        // A rejected control leaves the configuration as it was; the caller reports the error.
        if (!same(before ?? {}, s.controls ?? {})) this.#pipeline.setControls(s.id, s.controls ?? {});
      }
    }
    this.#cfg = next;
    if (next.logLevel !== prev.logLevel) this.#log.level = next.logLevel;
    this.#telemetry?.configure(next.telemetry);
    if (swap && this.#pipeline) {
      try {
        await this.#pipeline.swapModel(next.model);
      } catch (e) {
        // The old model keeps running; the caller reports the error.
        this.#cfg = prev;
        this.#telemetry?.configure(prev.telemetry);
        throw e;
      }
    } else if (rebuild) {
      this.#log.info('configuration changed: rebuilding the pipeline');
      const old = this.#pipeline;
      this.#pipeline = null;
      await old?.stop();
      try {
        await this.#startPipeline();
      } catch (e) {
        // Go back to what worked; the caller reports the error.
        this.#cfg = prev;
        this.#telemetry?.configure(prev.telemetry);
        await this.#startPipeline().catch((e2: Error) => this.#log.error({ err: e2 }, 'could not restart the previous pipeline'));
        throw e;
      }
    } else {
      if (next.model.scoreThreshold !== prev.model.scoreThreshold || next.model.iou !== prev.model.iou) {
        this.#pipeline?.setThresholds({ scoreThreshold: next.model.scoreThreshold, iou: next.model.iou });
      }
      const motionKey = (c: Config) => ({ m: c.motion, s: c.sources.map((x) => [x.id, x.motion, x.motionMasks]) });
      if (!same(motionKey(next), motionKey(prev))) this.#pipeline?.setMotion(next);
      const eventKey = (c: Config) => ({ t: c.tracker, l: c.labelThresholds, z: c.sources.map((x) => [x.id, x.zones, x.lines]) });
      if (!same(eventKey(next), eventKey(prev))) this.#pipeline?.configureEvents(next);
    }
    const listener = (c: Config) => ({ ...c.preview, enabled: undefined });
    if (this.#preview && same(listener(next), listener(prev))) {
      // Only the page switched: the listener stays, so /healthz never stops answering.
      this.#preview.setPage(next.preview.enabled);
    } else if (!same(next.preview, prev.preview)) {
      await this.#preview?.close();
      this.#preview = null;
      await this.#startPreview();
    }
  }

  async restartPipeline(): Promise<void> {
    const old = this.#pipeline;
    this.#pipeline = null;
    await old?.stop();
    await this.#startPipeline();
  }

  status(): AgentStatus {
    const link = this.#link;
    const outbox = this.#outbox;
    const sender = this.#sender;
    const t = this.#telemetry?.settings;
    return agentStatus({
      startedAt: this.#startedAt,
      pipeline: this.#pipeline,
      hub: link && outbox && sender ? { link, outbox, sender, transport: this.#cfg.hub?.transport ?? 'mqtt' } : null,
      telemetry: t ? { intervalMs: t.intervalMs, schema: t.schema, mode: t.mode } : null,
      events: allTallies(eventFeed(this.#pipeline)),
      config: { version: this.configVersion, error: this.configError },
      ...(this.modelUpdates ? { modelUpdates: { ...this.modelUpdates.counts } } : {}),
    });
  }

  /**
   * Stops capture, publishes the open windows, waits up to `drainMs` for acknowledgements.
   * `requested`: asked to stop (a signal), not stopping on an error.
   */
  async stop(drainMs = 10_000, requested = false): Promise<{ drained: boolean }> {
    this.modelUpdates?.close(requested);
    await this.#pipeline?.stop();
    await this.#preview?.close();
    let drained = true;
    await this.#telemetry?.close();
    if (this.#sender && this.#link) {
      drained = this.#link.state === 'connected' || drainMs > 0 ? await this.#sender.drain(drainMs) : false;
      if (!drained)
        this.#log.warn(
          { pending: this.#outbox?.stats().depth },
          'not every message was acknowledged before shutdown; they stay in the outbox for the next run',
        );
      await this.#sender.stop();
      await this.#link.close();
    }
    this.#outbox?.close();
    await this.#signer?.close();
    if (this.#tpm) await (await this.#tpm.catch(() => null))?.close();
    return { drained };
  }
}
