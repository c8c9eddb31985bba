// Over-the-air model updates: a package the twin names is downloaded, hashed (and its signature
// checked), unpacked into <state>/models/<sha256>/ through a temporary folder, loaded and run on
// a frame, and only then swapped in; its first frames are watched and a failure rolls it back.
// Every step is persisted in <state>/models/state.json, so a reboot resumes or rolls back.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config, PackageRef } from '../config/schema.js';
import { PerceptError } from '../errors.js';
import type { Logger } from '../log.js';
import { TRANSIENT_DOWNLOAD_CODES, download, safeUrl } from '../models/download.js';
import { preparePackage, sha256File, verifyDigest } from '../models/package.js';
import { unzip } from '../models/unzip.js';
import { loadModel } from '../pipeline/model.js';
import { TRIAL_MS, watchTrial } from './model-trial.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { FILE_CAPS, readRegularFileSync } from '../read-file.js';

export type UpdateStatus = 'downloading' | 'verifying' | 'staging' | 'active' | 'failed' | 'rolledBack';

export interface InstalledModel {
  sha256: string;
  manifestPath: string;
  name: string;
  version: string;
}

/** What `percept.model` reports. */
export interface ModelReport {
  status: UpdateStatus;
  progress: number | null;
  sha256: string | null;
  name: string | null;
  version: string | null;
  error: { code: string; message: string } | null;
  previous: { sha256: string; name: string; version: string } | null;
  at: string;
}

interface State {
  active: InstalledModel | null;
  previous: InstalledModel | null;
  /** The package being fetched or staged, and the step it reached. */
  pending: { ref: PackageRef; key: string; step: UpdateStatus } | null;
  /**
   * Set while a freshly swapped model is watched; found at boot, it means the agent died on it,
   * unless the agent was asked to stop (a signal) while the model was doing well: then
   * `pausedAfterMs` says how much of the trial had passed, and the rest runs after the start.
   */
  trial: { sha256: string; since: number; pausedAfterMs?: number } | null;
  /**
   * What failed last: the same reference (url, sha256, signature, size) is not fetched again
   * until the twin changes it; a model that was rolled back (`sha:<sha256>`) is not tried again.
   * A `transient` failure (the network, a server answering 5xx) is tried again with backoff and
   * at every start, resuming the partial file.
   */
  failed: { id: string; transient?: boolean } | null;
  report: ModelReport | null;
}

export interface UpdateHost {
  logger: Logger;
  /** Switches the running pipeline to the current desired configuration (which reads `active`). */
  reapply(): Promise<void>;
  pipeline(): Pipeline | null;
  report(m: ModelReport): void;
}

export { TRIAL_FAILURES, TRIAL_MS } from './model-trial.js';

/**
 * Waits between attempts after a transient download failure: doubling from `minMs` to `maxMs`.
 * Not a setting; tests shorten it in process.
 */
export const retryBackoff = { minMs: 30_000, maxMs: 3_600_000 };

function refId(p: PackageRef): string {
  return JSON.stringify([p.url, p.sha256?.toLowerCase() ?? null, p.signature ?? null, p.size ?? null]);
}

const EMPTY: State = { active: null, previous: null, pending: null, trial: null, failed: null, report: null };

export class ModelUpdater {
  readonly #dir: string;
  readonly #file: string;
  readonly #cfg: Config;
  readonly #host: UpdateHost;
  readonly #ca: string[];
  readonly #keys: string[];
  #state: State;
  #job: AbortController | null = null;
  #counts: Record<string, number> = {};
  #trialOff: (() => void) | null = null;
  /** The next attempt after a transient failure, and how many came before it. */
  #retry: { key: string; timer: NodeJS.Timeout } | null = null;
  /** The folder of a package unpacked but not yet active (named by its hash, which may not be the pending key). */
  #staging: string | null = null;
  #attempts = 0;
  /** How much of a trial had passed when a requested stop paused it; its rest waits for the model to run. */
  #paused: number | null = null;

  /** `ca`: PEMs the agent was given (--ca), trusted for downloads beside modelUpdate.caFiles. */
  constructor(cfg: Config, host: UpdateHost, ca: string[]) {
    this.#cfg = cfg;
    this.#host = host;
    this.#dir = path.join(cfg.stateDir, 'models');
    this.#file = path.join(this.#dir, 'state.json');
    const read = (f: string, what: string) =>
      readRegularFileSync(f, { what, maxBytes: FILE_CAPS.pem, openCode: 'ERR_CONFIG', hint: `check modelUpdate in the configuration` }).toString('utf8');
    this.#ca = [...ca, ...cfg.modelUpdate.caFiles.map((f) => read(f, 'modelUpdate.caFiles'))];
    this.#keys = cfg.modelUpdate.trustedKeys.map((k) => (k.includes('-----BEGIN') ? k : read(k, 'modelUpdate.trustedKeys')));
    this.#state = this.#load();
    // A rollback decided at boot is kept even if the agent stops again before its next step.
    if (this.#counts.rolledBack || this.#paused !== null) this.#save();
    this.#prune();
  }

  /** Results of finished updates by outcome (active, failed, rolledBack), for /metrics. */
  get counts(): Readonly<Record<string, number>> {
    return this.#counts;
  }

  get report(): ModelReport | null {
    return this.#state.report;
  }

  #load(): State {
    fs.mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    // Half-unpacked folders never load; they are removed at every start.
    for (const f of fs.readdirSync(this.#dir)) if (f.startsWith('.tmp-')) fs.rmSync(path.join(this.#dir, f), { recursive: true, force: true });
    let s: State;
    try {
      s = { ...EMPTY, ...(JSON.parse(fs.readFileSync(this.#file, 'utf8')) as Partial<State>) };
    } catch {
      return { ...EMPTY };
    }
    const exists = (m: InstalledModel | null) => (m && fs.existsSync(m.manifestPath) ? m : null);
    s.active = exists(s.active);
    s.previous = exists(s.previous);
    if (s.trial && s.trial.pausedAfterMs !== undefined && s.trial.sha256 === s.active?.sha256) {
      // Stopped on request mid-trial: the rest of the trial runs once the model runs again. A
      // death from here on (before or during that rest) is blamed on the model again.
      this.#paused = s.trial.pausedAfterMs;
      s.trial = { sha256: s.trial.sha256, since: Date.now() - s.trial.pausedAfterMs };
    } else if (s.trial) {
      // The agent died while the new model was on trial: it may be what killed it.
      const bad = s.active;
      s.active = s.previous;
      s.previous = null;
      s.trial = null;
      s.failed = bad ? { id: `sha:${bad.sha256}` } : s.failed;
      s.report = this.#reportOf(
        'rolledBack',
        s,
        bad?.sha256 ?? null,
        new PerceptError('ERR_PACKAGE_ROLLED_BACK', "the agent restarted during the new model's first 30 s; running the previous model"),
      );
      this.#counts.rolledBack = (this.#counts.rolledBack ?? 0) + 1;
    }
    return s;
  }

  #save(): void {
    const tmp = `${this.#file}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    fs.writeSync(fd, JSON.stringify(this.#state, null, 2));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, this.#file);
  }

  /** `cfg` with its model replaced by the active package's, when the twin names a package. */
  configFor(cfg: Config, pkg: PackageRef | undefined): Config {
    const a = this.#state.active;
    if (!pkg || !a) return cfg;
    return { ...cfg, model: { name: a.manifestPath, scoreThreshold: cfg.model.scoreThreshold, iou: cfg.model.iou } };
  }

  /** What the twin asks for now; starts, keeps or cancels an update. Returns at once. */
  request(pkg: PackageRef | undefined): void {
    const s = this.#state;
    if (!pkg) {
      this.#job?.abort();
      this.#cancelRetry();
      // A download in progress or waiting for its retry is abandoned with its partial file.
      const changed = s.active !== null || s.pending !== null || s.failed !== null;
      s.pending = null;
      s.failed = null;
      const was = s.active;
      // A model on trial that the twin drops is no longer on trial.
      this.#trialOff?.();
      this.#paused = null;
      if (s.trial) s.trial = null;
      if (was) {
        // The twin no longer names a package: the configuration's own model runs again.
        this.#host.logger.info({ sha256: was.sha256.slice(0, 12) }, 'the twin names no model package: back to the configured model');
        s.previous = was;
        s.active = null;
        s.report = null;
      }
      if (changed) {
        this.#save();
        this.#prune();
      }
      if (was) void this.#host.reapply().catch(() => undefined);
      return;
    }
    const key = pkg.sha256?.toLowerCase() ?? crypto.createHash('sha256').update(pkg.url).digest('hex');
    if (s.active && pkg.sha256 && s.active.sha256 === key) {
      // It runs again after a start that could not use it (see standby).
      if (s.report?.status === 'failed' && s.report.sha256 === key && !this.#job) this.#set('active', key);
      this.#resumeTrial();
      return;
    }
    if (s.pending?.key === key && this.#job) return;
    // The same package after a transient failure: its retry is already set (at a start, none is: go now).
    if (this.#retry?.key === refId(pkg)) return;
    if (s.failed && !s.failed.transient && (s.failed.id === refId(pkg) || s.failed.id === `sha:${key}`)) return;
    if (!(s.failed?.transient && s.failed.id === refId(pkg))) this.#attempts = 0;
    this.#cancelRetry();
    this.#job?.abort();
    const job = new AbortController();
    this.#job = job;
    void this.#run(pkg, key, job.signal).finally(() => {
      if (this.#job === job) this.#job = null;
    });
  }

  /**
   * No configuration naming the active package could start, so the configuration's own model
   * runs: the package stays installed and active for the next configuration that starts, and
   * the report says why it is not running.
   */
  standby(why: PerceptError | null): void {
    const a = this.#state.active;
    if (!a) return;
    this.#job?.abort();
    this.#cancelRetry();
    const err = new PerceptError(
      why?.code ?? 'ERR_CONFIG',
      `the model package ${a.name} ${a.version} is installed but not running: the desired configuration did not start${why ? ` (${why.message})` : ''}; the local configuration's model runs until a desired change starts`,
    );
    this.#host.logger.warn({ sha256: a.sha256.slice(0, 12) }, err.message);
    this.#set('failed', a.sha256, err);
  }

  #cancelRetry(): void {
    if (this.#retry) clearTimeout(this.#retry.timer);
    this.#retry = null;
  }

  /** Tries `pkg` again after the backoff; a twin change in between cancels it. */
  #scheduleRetry(pkg: PackageRef): number {
    const ms = Math.min(retryBackoff.maxMs, retryBackoff.minMs * 2 ** this.#attempts);
    this.#attempts++;
    const id = refId(pkg);
    const timer = setTimeout(() => {
      if (this.#retry?.timer !== timer) return;
      this.#retry = null;
      this.request(pkg);
    }, ms);
    timer.unref();
    this.#retry = { key: id, timer };
    return ms;
  }

  #set(status: UpdateStatus, sha256: string | null, error?: PerceptError, progress?: number): void {
    const s = this.#state;
    s.report = this.#reportOf(status, s, sha256, error, progress);
    if (progress === undefined) this.#save();
    this.#host.report(s.report);
  }

  #reportOf(status: UpdateStatus, s: State, sha256: string | null, error?: PerceptError, progress?: number): ModelReport {
    const m = status === 'active' ? s.active : null;
    const p = status === 'active' ? s.previous : s.active;
    return {
      status,
      // null deletes the key in the twin: a finished step carries no progress.
      progress: progress ?? null,
      sha256: m?.sha256 ?? sha256,
      name: m?.name ?? null,
      version: m?.version ?? null,
      error: error ? { code: error.code, message: error.message.slice(0, 1000) } : null,
      previous: p ? { sha256: p.sha256, name: p.name, version: p.version } : null,
      at: new Date().toISOString(),
    };
  }

  #finish(result: string): void {
    this.#counts[result] = (this.#counts[result] ?? 0) + 1;
  }

  async #run(pkg: PackageRef, key: string, signal: AbortSignal): Promise<void> {
    const s = this.#state;
    const log = this.#host.logger;
    const mu = this.#cfg.modelUpdate;
    const part = path.join(this.#dir, `${key}.part`);
    try {
      if (!pkg.sha256 && mu.requireHash) {
        throw new PerceptError(
          'ERR_PACKAGE_HASH',
          'model package without a sha256: give model.package.sha256 (or ModelSha256 beside ModelZipUrl), as `percept model pack` prints it',
        );
      }
      // A package already on disk (the previous one, say) was verified when it was installed.
      let sha = pkg.sha256 ? key : null;
      const staged = (h: string | null) => h !== null && fs.existsSync(path.join(this.#dir, h, 'percept-staged.json'));
      if (!staged(sha)) {
        s.pending = { ref: pkg, key, step: 'downloading' };
        this.#set('downloading', pkg.sha256 ?? null, undefined, 0);
        this.#save();
        log.info({ url: safeUrl(pkg.url), sha256: pkg.sha256?.slice(0, 12) }, 'model package: downloading');
        const max = Math.min(mu.maxBytes, pkg.size ?? Infinity);
        const size = await download({
          url: pkg.url,
          dest: part,
          maxBytes: max,
          allowHttp: mu.allowHttp,
          ca: this.#ca,
          stallMs: mu.stallMs,
          signal,
          // Without a length from the server, the twin's size (checked at the end) gives the share.
          onProgress: (n, total) => {
            const of = total ?? pkg.size ?? null;
            this.#set('downloading', pkg.sha256 ?? null, undefined, of ? Math.min(1, n / of) : 0);
          },
        });
        s.pending.step = 'verifying';
        log.info({ bytes: size }, 'model package: verifying');
        this.#set('verifying', pkg.sha256 ?? null);
        sha = await sha256File(part);
        if (pkg.sha256 && sha !== key) {
          fs.rmSync(part, { force: true });
          throw new PerceptError(
            'ERR_PACKAGE_HASH',
            `model package ${safeUrl(pkg.url)} has sha256 ${sha}, not the ${key} the twin gives; publish the package again or fix model.package.sha256`,
          );
        }
        if (pkg.size !== undefined && size !== pkg.size)
          throw new PerceptError('ERR_PACKAGE_HASH', `model package is ${size} bytes, not the ${pkg.size} the twin gives`);
        if (this.#keys.length) {
          if (!pkg.signature)
            throw new PerceptError(
              'ERR_PACKAGE_SIGNATURE',
              'this device requires signed model packages (modelUpdate.trustedKeys): give model.package.signature, as `percept model pack --sign` prints it',
            );
          if (!verifyDigest(sha, pkg.signature, this.#keys))
            throw new PerceptError(
              'ERR_PACKAGE_SIGNATURE',
              "the model package's signature is not valid for any of modelUpdate.trustedKeys; sign it with a trusted key",
            );
        }
        s.pending.step = 'staging';
        log.info({ sha256: sha.slice(0, 12), signed: this.#keys.length > 0 }, 'model package: unpacking and staging');
        this.#set('staging', sha);
        this.#staging = sha;
        if (!staged(sha)) await this.#stage(part, path.join(this.#dir, sha), sha);
        fs.rmSync(part, { force: true });
      }
      signal.throwIfAborted();
      if (sha === null) throw new PerceptError('ERR_PACKAGE_HASH', 'model package: no hash'); // unreachable: set above
      this.#staging = sha;
      const manifestPath = path.join(this.#dir, sha, 'percept-staged.json');
      // The manifest only: the swap below loads the model beside the running one, checks it
      // against the graph and runs it on a frame before any camera frame goes to it.
      const meta = (await loadModel({ name: manifestPath })).manifest;
      signal.throwIfAborted();
      log.info({ sha256: sha.slice(0, 12) }, 'model package: loading it beside the running model and trying a frame');
      const next: InstalledModel = { sha256: sha, manifestPath, name: meta.name, version: meta.version };
      const prev = s.active;
      const before = s.previous;
      s.previous = prev;
      s.active = next;
      s.pending = null;
      this.#staging = null;
      s.trial = { sha256: sha, since: Date.now() };
      this.#paused = null;
      s.failed = null;
      this.#attempts = 0;
      this.#save();
      // A model still in its trial is replaced: its watch ends, or it would judge the new model's frames.
      this.#trialOff?.();
      try {
        await this.#host.reapply();
      } catch (e) {
        // It did not load or run its first frame, and the agent went back to what ran: a
        // refusal like any other (reported as failed), not a rollback.
        s.active = prev;
        s.previous = before;
        s.trial = null;
        this.#save();
        throw e;
      }
      this.#set('active', sha);
      this.#finish('active');
      log.info({ model: next.name, version: next.version, sha256: sha.slice(0, 12) }, 'model package active');
      this.#prune();
      this.#watch(prev);
    } catch (e) {
      if (signal.aborted) return;
      this.#staging = null;
      const err = PerceptError.is(e) ? e : new PerceptError('ERR_PACKAGE_LAYOUT', `model package: ${(e as Error).message}`);
      const transient = TRANSIENT_DOWNLOAD_CODES.has(err.code);
      s.pending = transient ? s.pending : null;
      s.failed = { id: refId(pkg), ...(transient ? { transient } : {}) };
      // A download cut short is resumed by the next attempt; anything else starts afresh.
      if (!transient) fs.rmSync(part, { force: true });
      this.#set('failed', pkg.sha256 ?? null, err);
      this.#finish('failed');
      this.#prune();
      if (transient) {
        const ms = this.#scheduleRetry(pkg);
        log.warn({ code: err.code, url: safeUrl(pkg.url), retryInSeconds: Math.round(ms / 1000) }, `model download failed, trying again later: ${err.message}`);
      } else log.warn({ code: err.code, url: safeUrl(pkg.url) }, `model update failed: ${err.message}`);
    }
  }

  /** Unpacks into a temporary folder, recognises the package, syncs, and renames into place. */
  async #stage(zip: string, dest: string, key: string): Promise<void> {
    const tmp = path.join(this.#dir, `.tmp-${key.slice(0, 16)}-${crypto.randomBytes(4).toString('hex')}`);
    try {
      await unzip(zip, tmp, { maxBytes: this.#cfg.modelUpdate.maxBytes });
      await preparePackage(tmp, { fallbackName: `package-${key.slice(0, 12)}` });
      const dfd = fs.openSync(tmp, 'r');
      fs.fsyncSync(dfd);
      fs.closeSync(dfd);
      fs.rmSync(dest, { recursive: true, force: true });
      fs.renameSync(tmp, dest);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }

  /** A trial paused by a requested stop goes on for what was left of it, now that the model runs again. */
  #resumeTrial(): void {
    const s = this.#state;
    const t = s.trial;
    const paused = this.#paused;
    if (paused === null || !t || t.sha256 !== s.active?.sha256 || this.#trialOff || !this.#host.pipeline()) return;
    this.#paused = null;
    const left = Math.max(0, TRIAL_MS - paused);
    t.since = Date.now() - paused;
    this.#save();
    this.#host.logger.info({ sha256: t.sha256.slice(0, 12), leftMs: left }, "model package: the new model's trial goes on after the restart");
    this.#watch(s.previous, left);
  }

  /** The trial of the model just swapped in (model-trial.ts): a failure rolls it back to `prev`. */
  #watch(prev: InstalledModel | null, ms = TRIAL_MS): void {
    const p = this.#host.pipeline();
    const s = this.#state;
    if (!p || !s.active) return;
    const off = watchTrial(
      p,
      path.dirname(s.active.manifestPath),
      {
        fail: (why) => {
          this.#trialOff = null;
          void this.#rollback(prev, why);
        },
        pass: () => {
          this.#trialOff = null;
          s.trial = null;
          this.#save();
        },
      },
      ms,
    );
    this.#trialOff = () => {
      off();
      this.#trialOff = null;
    };
  }

  async #rollback(prev: InstalledModel | null, why: unknown): Promise<void> {
    const s = this.#state;
    const bad = s.active;
    const err =
      PerceptError.is(why) && why.code === 'ERR_PACKAGE_ROLLED_BACK'
        ? why
        : new PerceptError('ERR_PACKAGE_ROLLED_BACK', `the new model did not start: ${(why as Error).message}`);
    this.#host.logger.warn(
      { sha256: bad?.sha256.slice(0, 12), code: PerceptError.is(why) ? why.code : undefined },
      `model package rolled back: ${err.message}`,
    );
    s.active = prev;
    s.previous = null;
    s.trial = null;
    s.failed = bad ? { id: `sha:${bad.sha256}` } : null;
    this.#save();
    await this.#host.reapply().catch((e: Error) => this.#host.logger.error({ err: e }, 'could not restart the previous model'));
    this.#set('rolledBack', bad?.sha256 ?? null, err);
    this.#finish('rolledBack');
    this.#prune();
  }

  /**
   * Keeps the active and the previous package folders, and the package being fetched or staged
   * (its partial file, its folder); deletes every other folder and partial file.
   */
  #prune(): void {
    const s = this.#state;
    const keep = new Set([s.active?.sha256, s.previous?.sha256, s.pending?.key, this.#staging]);
    for (const f of fs.readdirSync(this.#dir)) {
      const file = path.join(this.#dir, f);
      if (/^[0-9a-f]{64}$/.test(f) && !keep.has(f)) fs.rmSync(file, { recursive: true, force: true });
      else if (f.endsWith('.part') && !keep.has(f.slice(0, -'.part'.length))) fs.rmSync(file, { force: true });
    }
  }

  /**
   * Ends the updater's work. `requested`: the agent was asked to stop (a signal), so a new model
   * still on trial and doing well is not blamed for the stop: its trial resumes at the next start.
   */
  close(requested = false): void {
    const t = this.#state.trial;
    if (requested && t && (this.#trialOff || this.#paused !== null)) {
      t.pausedAfterMs = this.#paused ?? Date.now() - t.since;
      this.#save();
    }
    this.#job?.abort();
    this.#cancelRetry();
    this.#trialOff?.();
  }
}
