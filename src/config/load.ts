// Builds the configuration from defaults, a JSON file, PERCEPT_* environment variables and
// command-line flags (later wins), then validates it once against the schema. Paths in the file
// are relative to the file; each value keeps its origin so an error names the input to fix.

import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { configSchema, originOf, type Config, type SourceConfig, type SourceKind } from './schema.js';
import { PerceptError } from '../errors.js';
import { FILE_CAPS, readRegularFileSync } from '../read-file.js';

export interface Overrides {
  sources?: string[];
  model?: string;
  modelPath?: string;
  workers?: number;
  threads?: number;
  providers?: string[];
  scoreThreshold?: number;
  iou?: number;
  frames?: number;
  output?: string;
  logLevel?: string;
  fps?: number;
  loop?: boolean;
  connectionString?: string;
  edge?: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  transport?: string;
  outbox?: string;
  outboxMaxBytes?: number;
  ttlSeconds?: number;
  whenFull?: string;
  sendTimeoutMs?: number;
  tokenTtlSeconds?: number;
  stateDir?: string;
  telemetryInterval?: number;
  telemetrySchema?: string;
  previewPort?: number;
  previewHost?: string;
  previewToken?: string;
  preview?: boolean;
  signer?: string;
  tcti?: string;
}

/**
 * Where each option comes from: its key in the configuration, its environment variable and its
 * flag. (The seed of one option table; flags not listed here are not options of `run`.)
 */
const OPTIONS: Record<keyof Overrides, { key: string; env?: string; flag: string }> = {
  sources: { key: 'sources', env: 'PERCEPT_SOURCE', flag: '--source' },
  model: { key: 'model.name', env: 'PERCEPT_MODEL', flag: '--model' },
  modelPath: { key: 'model.path', env: 'PERCEPT_MODEL_PATH', flag: '--model-path' },
  workers: { key: 'workers', env: 'PERCEPT_WORKERS', flag: '--workers' },
  threads: { key: 'threads', env: 'PERCEPT_THREADS', flag: '--threads' },
  providers: { key: 'providers', env: 'PERCEPT_PROVIDERS', flag: '--providers' },
  scoreThreshold: { key: 'model.scoreThreshold', env: 'PERCEPT_SCORE_THRESHOLD', flag: '--score-threshold' },
  iou: { key: 'model.iou', flag: '--iou' },
  frames: { key: 'frames', flag: '--frames' },
  output: { key: 'output', flag: '--output' },
  logLevel: { key: 'logLevel', env: 'PERCEPT_LOG_LEVEL', flag: '--log-level' },
  fps: { key: 'sources', flag: '--fps' },
  loop: { key: 'sources', flag: '--loop' },
  connectionString: { key: 'hub.connectionString', env: 'PERCEPT_CONNECTION_STRING', flag: '--connection-string' },
  edge: { key: 'hub.edge', env: 'PERCEPT_EDGE', flag: '--edge' },
  ca: { key: 'hub.ca', env: 'PERCEPT_CA', flag: '--ca' },
  cert: { key: 'hub.cert', flag: '--cert' },
  key: { key: 'hub.key', flag: '--key' },
  transport: { key: 'hub.transport', flag: '--transport' },
  outbox: { key: 'hub.outbox', flag: '--outbox' },
  outboxMaxBytes: { key: 'hub.outboxMaxBytes', flag: '--outbox-max-mb' },
  ttlSeconds: { key: 'hub.ttlSeconds', flag: '--outbox-ttl' },
  whenFull: { key: 'hub.whenFull', flag: '--when-full' },
  sendTimeoutMs: { key: 'hub.sendTimeoutMs', flag: '--send-timeout' },
  tokenTtlSeconds: { key: 'hub.tokenTtlSeconds', flag: '--token-ttl' },
  stateDir: { key: 'stateDir', env: 'PERCEPT_STATE_DIR', flag: '--state-dir' },
  telemetryInterval: { key: 'telemetry.intervalMs', flag: '--telemetry-interval' },
  telemetrySchema: { key: 'telemetry.schema', flag: '--telemetry-schema' },
  previewPort: { key: 'preview.port', flag: '--preview-port' },
  previewHost: { key: 'preview.host', flag: '--preview-host' },
  previewToken: { key: 'preview.token', env: 'PERCEPT_PREVIEW_TOKEN', flag: '--preview-token' },
  preview: { key: 'preview.enabled', flag: '--no-preview' },
  signer: { key: 'attest.signer', env: 'PERCEPT_SIGNER', flag: '--signer' },
  tcti: { key: 'attest.tcti', env: 'PERCEPT_TCTI', flag: '--tcti' },
};

/** `origins`: where each value came from; each line of the message names it. */
export function formatZodError(err: z.ZodError, origin: string, origins?: Record<string, string>): string {
  const lines = err.issues.map((i) => {
    const where = i.path.length ? i.path.join('.') : '(root)';
    const from = origins && i.path.length ? ` (from ${originOf({ origins }, where)})` : '';
    return `  ${where}: ${i.message}${from}`;
  });
  return `invalid configuration in ${origin}:\n${lines.join('\n')}`;
}

/** Validates a complete configuration object. */
export function parseConfig(input: unknown, origin = 'configuration'): Config {
  const r = configSchema.safeParse(input);
  if (!r.success) {
    const origins = (input as { origins?: Record<string, string> } | null)?.origins;
    throw new PerceptError('ERR_CONFIG', formatZodError(r.error, origin, origins && typeof origins === 'object' ? origins : undefined));
  }
  return r.data;
}

const IMAGE_EXT = /\.(jpe?g|png|webp|bmp|tiff?|gif)$/i;

/**
 * Turns a `--source` value into a source config. Forms: `[id=]<path|device|url|demo|synthetic>`.
 * A path is read at this point only to tell a folder from a file.
 */
export function parseSourceSpec(spec: string, index: number, extra: Partial<SourceConfig> = {}): SourceConfig {
  let sid: string | undefined;
  let uri = spec.trim();
  const m = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,63})=(.+)$/.exec(uri);
  if (m && !fs.existsSync(uri)) {
    sid = m[1];
    uri = m[2];
  }
  let kind: SourceKind;
  if (uri === 'demo') kind = 'demo';
  else if (uri === 'synthetic' || uri === 'testsrc') kind = 'synthetic';
  else if (/^rtsps?:\/\//i.test(uri) || /^(https?|rtmp|udp|tcp|srt):\/\//i.test(uri)) kind = 'rtsp';
  else if (/^\/dev\/video\d+$/.test(uri)) kind = 'webcam';
  else if (fs.existsSync(uri) && fs.statSync(uri).isDirectory()) kind = 'folder';
  else if (IMAGE_EXT.test(uri)) kind = 'image';
  else kind = 'video';
  // Without `<id>=`: `src<N>` by position from 0; `demo` and `synthetic` by kind, with the
  // position appended after the first place (`synthetic1`), so ids stay unique.
  const defaultId = kind === 'demo' || kind === 'synthetic' ? (index === 0 ? kind : `${kind}${index}`) : `src${index}`;
  return { id: sid ?? defaultId, kind, uri, loop: false, ...extra };
}

/**
 * The default source: the first webcam when there is one, else the demo. `cameras` are the
 * capture nodes the camera layer found (src/capture/cameras.ts asks the V4L2 addon, so a fake
 * device in tests counts); configuration itself never probes devices.
 */
export function defaultSource(cameras: readonly string[] = []): SourceConfig {
  if (cameras.length) return { id: 'cam0', kind: 'webcam', uri: cameras[0], loop: false };
  return { id: 'demo', kind: 'demo', uri: '', loop: false };
}

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new PerceptError('ERR_CONFIG', `environment variable ${name} must be a number, got '${v}'`);
  return n;
}

export function envOverrides(env: NodeJS.ProcessEnv): Overrides {
  const list = (v?: string) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined);
  return {
    sources: list(env.PERCEPT_SOURCE),
    model: env.PERCEPT_MODEL || undefined,
    modelPath: env.PERCEPT_MODEL_PATH || undefined,
    workers: num('PERCEPT_WORKERS', env.PERCEPT_WORKERS),
    threads: num('PERCEPT_THREADS', env.PERCEPT_THREADS),
    providers: list(env.PERCEPT_PROVIDERS),
    scoreThreshold: num('PERCEPT_SCORE_THRESHOLD', env.PERCEPT_SCORE_THRESHOLD),
    logLevel: env.PERCEPT_LOG_LEVEL || undefined,
    connectionString: env.PERCEPT_CONNECTION_STRING || undefined,
    edge: env.PERCEPT_EDGE === '1' || (env.IOTEDGE_WORKLOADURI !== undefined && env.IOTEDGE_MODULEID !== undefined && !env.PERCEPT_CONNECTION_STRING) || undefined,
    ca: env.PERCEPT_CA || undefined,
    stateDir: env.PERCEPT_STATE_DIR || undefined,
    previewToken: env.PERCEPT_PREVIEW_TOKEN || undefined,
    signer: env.PERCEPT_SIGNER || undefined,
    tcti: env.PERCEPT_TCTI || undefined,
  };
}

export function readConfigFile(file: string): Record<string, unknown> {
  // Small and read once at start: a synchronous read, but of a regular file only (a FIFO would block).
  const text = readRegularFileSync(file, { what: 'config file', maxBytes: FILE_CAPS.config, openCode: 'ERR_CONFIG', hint: 'check --config' }).toString('utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    // The position only: JSON.parse's message quotes the text.
    const at = /position (\d+)/.exec((e as Error).message);
    throw new PerceptError('ERR_CONFIG', `config file ${file} is not valid JSON${at ? ` (at character ${at[1]})` : ''}; check it with a JSON validator`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw new PerceptError('ERR_CONFIG', `config file ${file} must hold a JSON object`);
  }
  return data as Record<string, unknown>;
}

/** Keys of the file that hold paths: they are relative to the file's folder, not to the working directory. */
function resolveFilePaths(raw: Record<string, unknown>, dir: string): void {
  const obj = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
  const fix = (o: Record<string, unknown> | undefined, key: string, when: (v: string) => boolean = () => true) => {
    const v = o?.[key];
    if (o && typeof v === 'string' && v !== '' && when(v)) o[key] = path.resolve(dir, v);
  };
  const isUrl = (v: string) => /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(v);
  // A model name is a built-in name unless it looks like a path (as the manifest loader decides).
  const modelRef = (m: Record<string, unknown> | undefined) => {
    fix(m, 'name', (v) => v.endsWith('.json') || v.includes('/') || v.includes(path.sep));
    fix(m, 'path');
  };
  modelRef(obj(raw.model));
  if (Array.isArray(raw.sources)) {
    for (const s of raw.sources.map(obj)) {
      if (s && ['image', 'folder', 'video', 'webcam'].includes(s.kind as string)) fix(s, 'uri', (v) => !isUrl(v));
      modelRef(obj(s?.model));
    }
  }
  for (const k of ['ca', 'cert', 'key', 'outbox']) fix(obj(raw.hub), k);
  fix(obj(raw.attest), 'keyFile');
  fix(raw, 'stateDir');
  if (Array.isArray(raw.modelDirs)) raw.modelDirs = raw.modelDirs.map((d) => (typeof d === 'string' && d !== '' ? path.resolve(dir, d) : d));
}

/** Records `<key> in config file <f>` for every key of the file (a few levels deep). */
function fileOrigins(value: unknown, key: string, file: string, out: Record<string, string>, depth = 0): void {
  if (key !== '') out[key] = `${key} in config file ${file}`;
  if (depth > 6 || !value || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) fileOrigins(v, key === '' ? k : `${key}.${k}`, file, out, depth + 1);
}

/** defaults < file < environment < flags, validated once. */
export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv; flags?: Overrides; cameras?: readonly string[] }): Config {
  const raw: Record<string, unknown> = opts.file ? readConfigFile(opts.file) : {};
  const origins: Record<string, string> = {};
  if (opts.file) {
    const file = path.resolve(opts.file);
    delete raw.origins;
    resolveFilePaths(raw, path.dirname(file));
    fileOrigins(raw, '', file, origins);
  }
  const layers: Array<[Overrides, 'env' | 'flag']> = [[envOverrides(opts.env ?? {}), 'env'], [opts.flags ?? {}, 'flag']];
  for (const [o, layer] of layers) {
    for (const [name, value] of Object.entries(o) as Array<[keyof Overrides, unknown]>) {
      const opt = OPTIONS[name];
      if (value === undefined || opt === undefined) continue;
      if (name === 'fps' || name === 'loop') {
        // Applied to every source (unless this layer gives its own sources, which it then names).
        if (!o.sources?.length && Array.isArray(raw.sources)) raw.sources.forEach((_, i) => (origins[`sources.${i}.${name}`] = layer === 'env' ? 'the environment' : opt.flag));
        continue;
      }
      // A new value replaces what the file said below its key too.
      for (const k of Object.keys(origins)) if (k.startsWith(`${opt.key}.`)) delete origins[k];
      origins[opt.key] = layer === 'env' ? (opt.env ?? 'the environment') : opt.flag;
    }
    if (o.sources?.length) {
      const extra: Partial<SourceConfig> = {};
      if (o.fps !== undefined) extra.fps = o.fps;
      if (o.loop !== undefined) extra.loop = o.loop;
      raw.sources = o.sources.map((s, i) => parseSourceSpec(s, i, extra));
    } else if (o.fps !== undefined || o.loop !== undefined) {
      const srcs = Array.isArray(raw.sources) ? (raw.sources as Record<string, unknown>[]) : null;
      if (srcs) for (const s of srcs) Object.assign(s, o.fps !== undefined ? { fps: o.fps } : {}, o.loop !== undefined ? { loop: o.loop } : {});
    }
    if (o.model || o.modelPath || o.scoreThreshold !== undefined || o.iou !== undefined) {
      const prev = (raw.model ?? {}) as Record<string, unknown>;
      const model: Record<string, unknown> = { ...prev };
      if (o.model) {
        model.name = o.model;
        if (o.model !== prev.name) delete model.path;
      }
      if (model.name === undefined) model.name = 'blazeface-back';
      if (o.modelPath) model.path = o.modelPath;
      if (o.scoreThreshold !== undefined) model.scoreThreshold = o.scoreThreshold;
      if (o.iou !== undefined) model.iou = o.iou;
      raw.model = model;
    }
    if (o.workers !== undefined) raw.workers = o.workers;
    if (o.threads !== undefined) raw.threads = o.threads;
    if (o.providers?.length) raw.providers = o.providers;
    if (o.frames !== undefined) raw.frames = o.frames;
    if (o.output) raw.output = o.output;
    if (o.logLevel) raw.logLevel = o.logLevel;
    const hubSet = o.connectionString || o.edge || o.ca || o.cert || o.key || o.transport || o.outbox || o.outboxMaxBytes !== undefined || o.ttlSeconds !== undefined || o.whenFull || o.sendTimeoutMs !== undefined || o.tokenTtlSeconds !== undefined;
    if (hubSet) {
      const hub = { ...((raw.hub as Record<string, unknown>) ?? {}) };
      if (o.connectionString) hub.connectionString = o.connectionString;
      if (o.edge) hub.edge = true;
      if (o.ca) hub.ca = o.ca;
      if (o.cert) hub.cert = o.cert;
      if (o.key) hub.key = o.key;
      if (o.transport) hub.transport = o.transport;
      if (o.outbox) hub.outbox = o.outbox;
      if (o.outboxMaxBytes !== undefined) hub.outboxMaxBytes = o.outboxMaxBytes;
      if (o.ttlSeconds !== undefined) hub.ttlSeconds = o.ttlSeconds;
      if (o.whenFull) hub.whenFull = o.whenFull;
      if (o.sendTimeoutMs !== undefined) hub.sendTimeoutMs = o.sendTimeoutMs;
      if (o.tokenTtlSeconds !== undefined) hub.tokenTtlSeconds = o.tokenTtlSeconds;
      raw.hub = hub;
    }
    if (o.stateDir) raw.stateDir = o.stateDir;
    if (o.signer || o.tcti) {
      const a = { ...((raw.attest as Record<string, unknown>) ?? {}) };
      if (o.signer) a.signer = o.signer;
      if (o.tcti) a.tcti = o.tcti;
      raw.attest = a;
    }
    if (o.telemetryInterval !== undefined || o.telemetrySchema) {
      const t = { ...((raw.telemetry as Record<string, unknown>) ?? {}) };
      if (o.telemetryInterval !== undefined) t.intervalMs = o.telemetryInterval;
      if (o.telemetrySchema) t.schema = o.telemetrySchema;
      raw.telemetry = t;
    }
    if (o.previewPort !== undefined || o.previewHost || o.previewToken || o.preview !== undefined) {
      const p = { ...((raw.preview as Record<string, unknown>) ?? {}) };
      if (o.previewPort !== undefined) p.port = o.previewPort;
      if (o.previewHost) p.host = o.previewHost;
      if (o.previewToken) p.token = o.previewToken;
      if (o.preview !== undefined) p.enabled = o.preview;
      raw.preview = p;
    }
  }
  if (!raw.sources) raw.sources = [defaultSource(opts.cameras)];
  const origin = [opts.file && `file ${opts.file}`, 'environment', 'flags'].filter(Boolean).join(' + ');
  raw.origins = origins;
  const cfg = parseConfig(raw, origin);
  const ids = new Set<string>();
  for (const s of cfg.sources) {
    if (ids.has(s.id)) throw new PerceptError('ERR_CONFIG', `invalid configuration: two sources share the id '${s.id}'; give each an id with --source <id>=<uri>`);
    ids.add(s.id);
    if ((s.kind === 'image' || s.kind === 'folder' || s.kind === 'video' || s.kind === 'webcam' || s.kind === 'rtsp') && !s.uri) {
      throw new PerceptError('ERR_CONFIG', `invalid configuration: source '${s.id}' of kind ${s.kind} needs a uri (from ${originOf(cfg, 'sources')})`);
    }
  }
  return cfg;
}
