// Builds the configuration from defaults, a JSON file, PERCEPT_* environment variables and
// command-line flags (later wins), then validates it once against the schema.

import fs from 'node:fs';
import { z } from 'zod';
import { configSchema, type Config, type SourceConfig, type SourceKind } from './schema.js';
import { PerceptError } from '../errors.js';

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

export function formatZodError(err: z.ZodError, origin: string): string {
  const lines = err.issues.map((i) => {
    const where = i.path.length ? i.path.join('.') : '(root)';
    return `  ${where}: ${i.message}`;
  });
  return `invalid configuration in ${origin}:\n${lines.join('\n')}`;
}

/** Validates a complete configuration object. */
export function parseConfig(input: unknown, origin = 'configuration'): Config {
  const r = configSchema.safeParse(input);
  if (!r.success) throw new PerceptError('ERR_CONFIG', formatZodError(r.error, origin));
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
  const defaultId = kind === 'demo' || kind === 'synthetic' ? kind : `src${index}`;
  return { id: sid ?? (index === 0 ? defaultId : `${defaultId}${index}`), kind, uri, loop: false, ...extra };
}

/** The default source: the first webcam when there is one, else the demo. */
export function defaultSource(): SourceConfig {
  if (fs.existsSync('/dev/video0')) return { id: 'cam0', kind: 'webcam', uri: '/dev/video0', loop: false };
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
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new PerceptError('ERR_CONFIG', `cannot read config file ${file}: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new PerceptError('ERR_CONFIG', `config file ${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw new PerceptError('ERR_CONFIG', `config file ${file} must hold a JSON object`);
  }
  return data as Record<string, unknown>;
}

/** defaults < file < environment < flags, validated once. */
export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv; flags?: Overrides }): Config {
  const raw: Record<string, unknown> = opts.file ? readConfigFile(opts.file) : {};
  const layers = [envOverrides(opts.env ?? {}), opts.flags ?? {}];
  for (const o of layers) {
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
  if (!raw.sources) raw.sources = [defaultSource()];
  const origin = [opts.file && `file ${opts.file}`, 'environment', 'flags'].filter(Boolean).join(' + ');
  const cfg = parseConfig(raw, origin);
  const ids = new Set<string>();
  for (const s of cfg.sources) {
    if (ids.has(s.id)) throw new PerceptError('ERR_CONFIG', `invalid configuration: two sources share the id '${s.id}'; give each an id with --source <id>=<uri>`);
    ids.add(s.id);
    if ((s.kind === 'image' || s.kind === 'folder' || s.kind === 'video' || s.kind === 'webcam' || s.kind === 'rtsp') && !s.uri) {
      throw new PerceptError('ERR_CONFIG', `invalid configuration: source '${s.id}' of kind ${s.kind} needs a uri`);
    }
  }
  return cfg;
}
