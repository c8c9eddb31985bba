// The control plane: desired properties become configuration (validated, applied live,
// answered in reported properties with the applied $version), and direct methods answer
// getStatus, snapshot, restartPipeline, setLogLevel and attest. The last applied desired document is
// kept on disk so a device that boots offline runs as it was last told.

import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Config } from '../config/schema.js';
import { applyDesired, mergePatch, stripMeta } from '../config/desired.js';
import { PerceptError } from '../errors.js';
import { drawDetections } from '../pipeline/snapshot.js';
import type { TappedFrame } from '../pipeline/pipeline.js';
import type { Agent } from './agent.js';
import type { MethodResult } from '../hub/link.js';
import { attestMethod } from './attest-method.js';

const METHOD_LIMIT = 128 * 1024;

interface Persisted {
  version: number | null;
  desired: Record<string, unknown>;
}

export class Control {
  #desired: Record<string, unknown> = {};
  #queue: Promise<void> = Promise.resolve();
  readonly #file: string;

  constructor(
    private readonly agent: Agent,
    /** The local configuration (file, environment, flags) the twin applies on top of. */
    private readonly base: Config,
  ) {
    this.#file = path.join(base.stateDir, 'twin-desired.json');
  }

  /** The configuration to boot with: the local one plus the last applied desired document. */
  static bootConfig(base: Config, log: { warn(o: object, m: string): void }): { config: Config; version: number | null; desired: Record<string, unknown> } {
    const file = path.join(base.stateDir, 'twin-desired.json');
    try {
      const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Persisted;
      return { config: applyDesired(base, p.desired).config, version: p.version, desired: p.desired };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ file, error: (e as Error).message }, 'ignoring the saved twin configuration');
      return { config: base, version: null, desired: {} };
    }
  }

  attach(desired: Record<string, unknown>): void {
    this.#desired = desired;
    const link = this.agent.link;
    if (!link) return;
    link.onDesired((patch) => {
      // Twin events arrive in order; applying them one at a time keeps them so.
      this.#queue = this.#queue.then(() => this.#onDesired(patch)).catch(() => undefined);
    });
    link.onMethod('getStatus', async () => ({ status: 200, payload: this.agent.status() }));
    link.onMethod('restartPipeline', async () => {
      await this.agent.restartPipeline();
      return { status: 200, payload: { restarted: true } };
    });
    link.onMethod('setLogLevel', async (payload) => this.#setLogLevel(payload));
    link.onMethod('snapshot', async (payload) => this.#snapshot(payload));
    link.onMethod('attest', async (payload) => attestMethod(this.agent.signer, payload));
    link.on('state', (s: string) => {
      if (s === 'connected') void this.#report();
    });
  }

  async #onDesired(patch: Record<string, unknown>): Promise<void> {
    const version = typeof patch.$version === 'number' ? patch.$version : null;
    this.#desired = mergePatch(this.#desired, patch);
    const log = this.agent.logger;
    try {
      const { config, ignored } = applyDesired(this.base, this.#desired);
      await this.agent.reconfigure(config);
      this.agent.configVersion = version;
      this.agent.configError = null;
      fs.mkdirSync(path.dirname(this.#file), { recursive: true });
      const tmp = `${this.#file}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify({ version, desired: stripMeta(this.#desired) } satisfies Persisted), { mode: 0o600 });
      fs.renameSync(tmp, this.#file);
      log.info({ version, ignored: ignored.length ? ignored : undefined }, 'desired properties applied');
      await this.#report({ status: 'applied', ignored });
    } catch (e) {
      const err = PerceptError.is(e) ? e : new PerceptError('ERR_CONFIG', (e as Error).message);
      this.agent.configError = err.message;
      log.warn({ version, code: err.code }, `desired properties rejected: ${err.message}`);
      await this.#report({ status: 'rejected', error: { code: err.code, message: err.message.slice(0, 2000), version } });
    }
  }

  async #report(extra: { status?: string; ignored?: string[]; error?: unknown } = {}): Promise<void> {
    const s = this.agent.status();
    const m = s.pipeline.models[0];
    const patch = {
      percept: {
        agent: { version: s.version, startedAt: s.startedAt },
        config: {
          version: this.agent.configVersion,
          status: extra.status ?? (this.agent.configError ? 'rejected' : 'applied'),
          error: extra.error ?? null,
          ignored: extra.ignored ?? [],
          at: new Date().toISOString(),
        },
        running: {
          model: m ? { name: m.name, version: m.version, sha256: m.sha256 } : null,
          provider: m?.provider ?? null,
          fps: Math.round(s.pipeline.fps * 10) / 10,
          sources: s.pipeline.sources.map((x) => ({ id: x.id, kind: x.kind })),
          telemetry: s.telemetry,
          thresholds: { scoreThreshold: this.agent.config.model.scoreThreshold ?? null, iou: this.agent.config.model.iou ?? null },
        },
      },
    };
    try {
      await this.agent.link?.report(patch);
    } catch (e) {
      this.agent.logger.warn({ error: (e as Error).message }, 'could not report properties');
    }
  }

  async #setLogLevel(payload: unknown): Promise<MethodResult> {
    const r = z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) }).safeParse(payload);
    if (!r.success) return { status: 400, payload: { error: { code: 'ERR_USAGE', message: 'expected {"level": "fatal|error|warn|info|debug|trace|silent"}' } } };
    const previous = this.agent.logger.level;
    this.agent.logger.level = r.data.level;
    return { status: 200, payload: { level: r.data.level, previous } };
  }

  async #snapshot(payload: unknown): Promise<MethodResult> {
    const r = z.strictObject({ source: z.string().optional(), timeoutMs: z.number().int().min(100).max(20_000).optional() }).nullable().safeParse(payload ?? null);
    if (!r.success) return { status: 400, payload: { error: { code: 'ERR_USAGE', message: 'expected {"source"?: "<id>", "timeoutMs"?: 100..20000}' } } };
    const pipeline = this.agent.pipeline;
    if (!pipeline) return { status: 503, payload: { error: { code: 'ERR_SOURCE_FAILED', message: 'the pipeline is not running' } } };
    const want = r.data?.source;
    const frame = await new Promise<TappedFrame | null>((resolve) => {
      const t = setTimeout(() => {
        pipeline.off('frame', on);
        resolve(null);
      }, r.data?.timeoutMs ?? 5000);
      const on = (f: TappedFrame) => {
        if (want && f.result.source !== want) return;
        clearTimeout(t);
        pipeline.off('frame', on);
        resolve(f);
      };
      pipeline.on('frame', on);
    });
    if (!frame) return { status: 504, payload: { error: { code: 'ERR_SOURCE_FAILED', message: `no frame${want ? ` from source '${want}'` : ''} arrived in time` } } };
    // Leave room for the JSON around the base64 text.
    const { jpeg, width, height } = await drawDetections(frame.data, frame.result.detections, Math.floor(((METHOD_LIMIT - 4096) * 3) / 4));
    return {
      status: 200,
      payload: {
        source: frame.result.source,
        seq: frame.result.seq,
        capturedAt: new Date(frame.result.capturedAt).toISOString(),
        width,
        height,
        detections: frame.result.detections.map((d) => ({ label: d.label, confidence: Math.round(d.confidence * 1e4) / 1e4, box: d.box.map(Math.round) })),
        contentType: 'image/jpeg',
        image: jpeg.toString('base64'),
      },
    };
  }
}
