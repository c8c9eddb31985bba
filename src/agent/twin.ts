// The module twin side of the control plane: desired properties become configuration
// (validated, applied live, answered in reported properties with the applied $version); the
// direct methods are registered from methods.ts. At boot the hub's desired document decides;
// the last applied one, kept on disk, serves a device that boots offline.

import fs from 'node:fs';
import path from 'node:path';
import { originOf, type Config, type PackageRef } from '../config/schema.js';
import { applyDesired, forbiddenKey, mergePatch, stripMeta } from '../config/desired.js';
import { PerceptError } from '../errors.js';
import type { Agent } from './agent.js';
import type { HubLink } from '../hub/link.js';
import { needsAttention, type FailureKind } from '../hub/retry.js';
import { registerMethods } from './methods.js';
import { ModelUpdater } from './model-update.js';
import { FILE_CAPS, readRegularFileSync } from '../read-file.js';

/** How long boot waits for the hub's twin before it falls back to the saved document. */
const TWIN_WAIT_MS = 10_000;

interface Persisted {
  version: number | null;
  desired: Record<string, unknown>;
}

interface Chosen {
  config: Config;
  version: number | null;
  ignored: string[];
  package?: PackageRef;
}

export class TwinControl {
  #desired: Record<string, unknown> = {};
  #queue: Promise<void> = Promise.resolve();
  /** The $version of the last whole document handled (applied or rejected): a reconnect repeating it changes nothing. */
  #handled: number | null = null;
  /** What the last report said of the desired document, repeated by reports that do not change it. */
  #said: { status: string; error: unknown; ignored: string[] } = { status: 'applied', error: null, ignored: [] };
  readonly #file: string;
  readonly #twinWaitMs: number;
  /** Over-the-air model packages; only with a hub. */
  #updates: ModelUpdater | null = null;

  constructor(
    private readonly agent: Agent,
    /** The local configuration (file, environment, flags) the twin applies on top of. */
    private readonly base: Config,
    opts: { twinWaitMs?: number } = {},
  ) {
    this.#file = path.join(base.stateDir, 'twin-desired.json');
    this.#twinWaitMs = opts.twinWaitMs ?? TWIN_WAIT_MS;
  }

  /**
   * Starts the agent. With a hub, connects first and runs as the hub's desired document says;
   * when the hub cannot be reached within a bound, as the last applied document said. A document
   * that does not validate is never applied: the one before it (or the local configuration) runs.
   * When `stop` settles while it waits for the hub, nothing is started.
   */
  async boot(stop?: Promise<void>): Promise<void> {
    let stopping = false;
    void stop?.then(() => (stopping = true));
    const agent = this.agent;
    const log = agent.logger;
    await agent.openHub();
    if (agent.link) this.#openUpdates();
    // Desired patches and reports wait in the queue until the pipeline runs.
    let booted: () => void = () => undefined;
    this.#queue = new Promise<void>((r) => (booted = r));
    this.#attach();
    try {
      const saved = this.#readSaved();
      const link = agent.link;
      const hubDoc = link ? await this.#fetchDesired(link, stop) : null;
      if (stopping) return;
      // In order of preference: the hub's document, the last one applied, the local configuration.
      const candidates: Array<Chosen & { from: 'hub' | 'saved' }> = [];
      let rejected: PerceptError | null = null;
      const reject = (e: unknown, version: number | null) => {
        rejected = this.#asConfigError(e);
        agent.configError = rejected.message;
        log.warn({ version, code: rejected.code }, `desired properties rejected: ${rejected.message}`);
      };
      if (hubDoc) {
        const version = typeof hubDoc.$version === 'number' ? hubDoc.$version : null;
        this.#desired = stripMeta(hubDoc);
        this.#handled = version;
        try {
          const a = applyDesired(this.base, hubDoc);
          candidates.push({ ...a, config: this.#withPackage(a.config, a.package), version, from: 'hub' });
        } catch (e) {
          reject(e, version);
        }
      } else if (saved) this.#desired = saved.desired;
      if (saved)
        candidates.push({ config: this.#withPackage(saved.config, saved.package), version: saved.version, ignored: [], package: saved.package, from: 'saved' });
      let chosen: (typeof candidates)[number] | null = null;
      let startError: PerceptError | null = null;
      for (const c of candidates) {
        if (c.from === 'saved') log.info({ version: c.version }, 'running on the saved twin configuration');
        try {
          agent.configVersion = c.version;
          await agent.startRuntime(c.config);
          chosen = c;
          break;
        } catch (e) {
          startError = this.#asConfigError(e);
          // A document that validates but cannot run (a model that does not load) must not
          // keep the device down: the next candidate runs, and the hub is told.
          if (c.from === 'hub') reject(e, c.version);
          else
            log.warn(
              { code: PerceptError.is(e) ? e.code : undefined, error: (e as Error).message },
              'the saved twin configuration does not start; running on the local configuration',
            );
        }
      }
      if (!chosen) {
        agent.configVersion = null;
        await agent.startRuntime(this.base);
      }
      if (link?.state === 'connected') {
        const r = rejected as PerceptError | null;
        if (r) await this.#report({ status: 'rejected', error: { code: r.code, message: r.message.slice(0, 2000), version: this.#handled } });
        else {
          if (chosen?.from === 'hub') this.#save(chosen.version);
          await this.#report({ status: 'applied', ignored: chosen?.ignored ?? [] });
        }
      }
      // Nothing the twin asked for started: an installed package is kept for when something does.
      if (chosen) this.#updates?.request(chosen.package);
      else if (candidates.length) this.#updates?.standby(startError);
    } finally {
      booted();
    }
  }

  /** The saved document, if there is one and it still validates (an older version may have saved what is no longer allowed). */
  #readSaved(): (Persisted & { config: Config; package?: PackageRef }) | null {
    const file = this.#file;
    try {
      const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Persisted;
      if (!p || typeof p !== 'object' || !p.desired || typeof p.desired !== 'object') throw new PerceptError('ERR_CONFIG', 'not a saved twin document');
      const a = applyDesired(this.base, p.desired);
      return { version: typeof p.version === 'number' ? p.version : null, desired: stripMeta(p.desired), config: a.config, package: a.package };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.agent.logger.warn(
          { file, code: PerceptError.is(e) ? e.code : 'ERR_CONFIG', error: (e as Error).message },
          "ignoring the saved twin configuration: it is not valid; the hub's next desired document replaces it",
        );
      }
      return null;
    }
  }

  /**
   * Connects and returns the hub's whole desired document, or null when the hub does not answer
   * within the bound (or refuses us: retries then are slow). Rejects when the configuration
   * cannot work at all (ERR_CONFIG from the link).
   */
  async #fetchDesired(link: HubLink, stop: Promise<void> = new Promise(() => undefined)): Promise<Record<string, unknown> | null> {
    const opening = this.agent.connect();
    let timer: NodeJS.Timeout | undefined;
    let onState: (s: string) => void = () => undefined;
    let onFailure: (k: FailureKind) => void = () => undefined;
    const waited = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.#twinWaitMs);
      onState = (s) => s === 'connected' && resolve(true);
      onFailure = (k) => needsAttention(k) && resolve(false);
      link.on('state', onState);
      link.on('failure', onFailure);
    });
    this.agent.logger.info({ waitMs: this.#twinWaitMs }, 'connecting to the hub for the module twin before starting');
    try {
      const connected = link.state === 'connected' || (await Promise.race([waited, opening.then(() => true), stop.then(() => false)]));
      if (!connected) {
        this.agent.logger.warn({ lastError: link.lastError }, "starting without the hub's twin (not connected yet); it applies once connected");
        return null;
      }
      const doc = await link.getDesired();
      return doc ? structuredClone<Record<string, unknown>>(doc) : null;
    } finally {
      clearTimeout(timer);
      link.off('state', onState);
      link.off('failure', onFailure);
      // Later failures of the first connection are the link's to retry and log.
      opening.catch(() => undefined);
    }
  }

  #attach(): void {
    const link = this.agent.link;
    if (!link) return;
    link.onDesired((patch, full) => {
      // Twin events arrive in order; applying them one at a time keeps them so. The SDK's
      // object is copied: it merges later patches into the one it handed over.
      const copy = structuredClone(patch);
      this.#queue = this.#queue.then(() => this.#onDesired(copy, full)).catch(() => undefined);
    });
    registerMethods(link, this.agent);
    link.on('state', (s: string) => {
      if (s === 'connected') this.#queue = this.#queue.then(() => this.#report()).catch(() => undefined);
    });
  }

  async #onDesired(patch: Record<string, unknown>, full: boolean): Promise<void> {
    const version = typeof patch.$version === 'number' ? patch.$version : null;
    // Each connection starts with the whole document: the same one again changes nothing.
    if (full && version !== null && version === this.#handled) return;
    this.#handled = version;
    const log = this.agent.logger;
    const bad = forbiddenKey(patch);
    this.#desired = full ? stripMeta(patch) : mergePatch(this.#desired, patch);
    try {
      if (bad)
        throw new PerceptError(
          'ERR_CONFIG',
          `invalid configuration in desired properties:\n  ${bad}: the key '__proto__' is not allowed; remove it from the desired properties`,
        );
      const { config, ignored, package: pkg } = applyDesired(this.base, this.#desired);
      await this.agent.reconfigure(this.#withPackage(config, pkg));
      this.#updates?.request(pkg);
      this.agent.configVersion = version;
      this.agent.configError = null;
      this.#save(version);
      log.info({ version, ignored: ignored.length ? ignored : undefined }, 'desired properties applied');
      await this.#report({ status: 'applied', ignored });
    } catch (e) {
      const err = this.#asConfigError(e);
      this.agent.configError = err.message;
      log.warn({ version, code: err.code }, `desired properties rejected: ${err.message}`);
      await this.#report({ status: 'rejected', error: { code: err.code, message: err.message.slice(0, 2000), version } });
    }
  }

  /** The model updater, reporting in `percept.model` and switching models through this queue. */
  #openUpdates(): void {
    const agent = this.agent;
    const caFile = this.base.hub?.ca;
    const ca = caFile
      ? [
          readRegularFileSync(caFile, {
            what: `CA certificate (from ${originOf(this.base, 'hub.ca')})`,
            maxBytes: FILE_CAPS.pem,
            openCode: 'ERR_CONFIG',
            hint: 'check --ca',
          }).toString('utf8'),
        ]
      : [];
    this.#updates = new ModelUpdater(
      this.base,
      {
        logger: agent.logger,
        pipeline: () => agent.pipeline,
        // A model switch waits for twin changes in flight, and they for it.
        reapply: () => {
          const run = this.#queue.then(async () => {
            const { config, package: pkg } = applyDesired(this.base, this.#desired);
            await agent.reconfigure(this.#withPackage(config, pkg));
          });
          this.#queue = run.catch(() => undefined);
          return run;
        },
        report: (model) => {
          // Progress alone is patched at once; a new status also refreshes what runs.
          if (model.status === 'downloading' && model.progress !== null && model.progress > 0) {
            agent.link?.report({ percept: { model } }).catch((e: Error) => agent.logger.debug({ error: e.message }, 'could not report the model update'));
          } else this.#queue = this.#queue.then(() => this.#report()).catch(() => undefined);
        },
      },
      ca,
    );
    agent.modelUpdates = this.#updates;
  }

  #withPackage(config: Config, pkg: PackageRef | undefined): Config {
    return this.#updates ? this.#updates.configFor(config, pkg) : config;
  }

  #asConfigError(e: unknown): PerceptError {
    return PerceptError.is(e) ? e : new PerceptError('ERR_CONFIG', (e as Error).message);
  }

  /** Keeps the applied document for a boot without the hub. */
  #save(version: number | null): void {
    fs.mkdirSync(path.dirname(this.#file), { recursive: true });
    const tmp = `${this.#file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ version, desired: stripMeta(this.#desired) } satisfies Persisted), { mode: 0o600 });
    fs.renameSync(tmp, this.#file);
  }

  async #report(extra: { status?: string; ignored?: string[]; error?: unknown } = {}): Promise<void> {
    if (extra.status) this.#said = { status: extra.status, error: extra.error ?? null, ignored: extra.ignored ?? [] };
    const said = this.#said;
    const s = this.agent.status();
    const m = s.pipeline.models[0];
    const patch = {
      percept: {
        agent: { version: s.version, startedAt: s.startedAt },
        config: {
          version: this.agent.configVersion,
          status: said.status,
          error: said.error,
          ignored: said.ignored,
          at: new Date().toISOString(),
        },
        model: this.#updates?.report ?? null,
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
}
