// Builds the configuration from defaults, a JSON file, PERCEPT_* environment variables and
// command-line flags (later wins), then validates it once against the schema. Paths in the file
// are relative to the file; each value keeps its origin so an error names the input to fix.

import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { configSchema, originOf, type Config, type SourceConfig, type SourceKind } from './schema.js';
import { OPTION_LIST, type Option } from './options.js';
import { closest, envOverrides, getPath, setPath, type Overrides } from './derive.js';
import { PerceptError } from '../errors.js';
import { FILE_CAPS, readRegularFileSync } from '../read-file.js';

export { envOverrides, type Overrides } from './derive.js';

/** Just what childKeys reads of a zod schema's structure. */
interface SchemaNode {
  _zod?: { def?: { type?: string; innerType?: SchemaNode; element?: SchemaNode } };
  shape?: Record<string, SchemaNode>;
}

/** The keys `schema` allows below the path `at`, for "did you mean" on an unknown one. */
export function childKeys(schema: unknown, at: readonly string[]): string[] {
  let s = schema as SchemaNode | undefined;
  const unwrap = () => {
    while (s?._zod?.def?.innerType) s = s._zod.def.innerType;
  };
  unwrap();
  for (const part of at) {
    s = s?._zod?.def?.type === 'array' ? s._zod.def.element : s?.shape?.[part];
    unwrap();
  }
  return s?.shape ? Object.keys(s.shape).filter((k) => k !== 'origins') : [];
}

/**
 * One line per problem, each in the one shape of every edge:
 * `workers: expected an integer from 1 to 16 but got 0 (from --workers)`.
 */
export function formatIssues(err: z.ZodError, originFor: (key: string) => string, schema: unknown = configSchema, unknownKey = 'not a setting'): string {
  const lines = err.issues.flatMap((i) => {
    const at = i.path.map(String);
    if (i.code === 'unrecognized_keys') {
      return i.keys.map((k) => {
        const key = [...at, k].join('.');
        const near = closest(k, childKeys(schema, at));
        return `${key}: ${unknownKey}${near ? `; did you mean ${[...at, near].join('.')}?` : ' (docs/configuration.md lists them)'} (from ${originFor(key)})`;
      });
    }
    const key = at.length ? at.join('.') : '(root)';
    return [`${key}: ${i.message} (from ${originFor(key)})`];
  });
  return lines.join('\n');
}

/** Validates a complete configuration object; `origin` names it when it records no origins. */
export function parseConfig(input: unknown, origin = 'configuration'): Config {
  const r = configSchema.safeParse(input);
  if (!r.success) {
    const origins = (input as { origins?: unknown } | null)?.origins;
    const known = origins && typeof origins === 'object' ? (origins as Record<string, string>) : undefined;
    throw new PerceptError(
      'ERR_CONFIG',
      formatIssues(r.error, (k) => (known ? originOf({ origins: known }, k) : origin)),
    );
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
  const [, id, rest] = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,63})=(.+)$/.exec(uri) ?? [];
  if (id !== undefined && rest !== undefined && !fs.existsSync(uri)) {
    sid = id;
    uri = rest;
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
  // `demo` and `synthetic` name a kind, not a file (a synthetic source with a uri plays that photo).
  return { id: sid ?? defaultId, kind, uri: kind === 'demo' || kind === 'synthetic' ? '' : uri, loop: false, ...extra };
}

/**
 * The default source: the first webcam when there is one, else the demo. `cameras` are the
 * capture nodes the camera layer found (src/capture/cameras.ts asks the V4L2 addon, so a fake
 * device in tests counts); configuration itself never probes devices.
 */
export function defaultSource(cameras: readonly string[] = []): SourceConfig {
  if (cameras[0] !== undefined) return { id: 'cam0', kind: 'webcam', uri: cameras[0], loop: false };
  return { id: 'demo', kind: 'demo', uri: '', loop: false };
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
  // Every plain row of the table that holds a path (or a list of them).
  for (const o of OPTION_LIST) {
    if (!o.path || o.custom) continue;
    const v = getPath(raw, o.key);
    const abs = (d: unknown) => (typeof d === 'string' && d !== '' ? path.resolve(dir, d) : d);
    if (typeof v === 'string' || Array.isArray(v)) setPath(raw, o.key, Array.isArray(v) ? v.map(abs) : abs(v));
  }
}

/** A key under an older name (`hub.output`) moves to its row's key, unless the file gives both. */
function applyFileAliases(raw: Record<string, unknown>, origins: Record<string, string>): void {
  for (const o of OPTION_LIST) {
    for (const alias of o.fileAliases ?? []) {
      const v = getPath(raw, alias);
      if (v === undefined) continue;
      const [parent, leaf] = [alias.slice(0, alias.lastIndexOf('.')), alias.slice(alias.lastIndexOf('.') + 1)];
      const holder = getPath(raw, parent);
      if (holder && typeof holder === 'object') delete (holder as Record<string, unknown>)[leaf];
      if (getPath(raw, o.key) === undefined) {
        setPath(raw, o.key, v);
        origins[o.key] = origins[alias] ?? alias;
      }
      delete origins[alias];
    }
  }
}

/** Records `<key> in config file <f>` for every key of the file (a few levels deep). */
function fileOrigins(value: unknown, key: string, file: string, out: Record<string, string>, depth = 0): void {
  if (key !== '') out[key] = `${key} in config file ${file}`;
  if (depth > 6 || !value || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) fileOrigins(v, key === '' ? k : `${key}.${k}`, file, out, depth + 1);
}

/** `key` now comes from `from`: what the file said below it no longer counts. */
function record(origins: Record<string, string>, key: string, from: string): void {
  for (const k of Object.keys(origins)) if (k.startsWith(`${key}.`)) delete origins[k];
  origins[key] = from;
}

/** The structured rows: --source builds the list, --fps and --loop set every source, the model flags its reference. */
function applyCustom(raw: Record<string, unknown>, o: Overrides, from: (opt: Option) => string, origins: Record<string, string>): void {
  const row = (name: string) => OPTION_LIST.find((r) => r.name === name)!;
  const sources = o.sources as string[] | undefined;
  const extra: Partial<SourceConfig> = {};
  if (o.fps !== undefined) extra.fps = o.fps as number;
  if (o.loop !== undefined) extra.loop = o.loop as boolean;
  if (sources?.length) {
    raw.sources = sources.map((spec, i) => parseSourceSpec(String(spec), i, extra));
    record(origins, 'sources', from(row('sources')));
  } else if (Array.isArray(raw.sources)) {
    for (const s of raw.sources as Array<Record<string, unknown>>) if (s && typeof s === 'object') Object.assign(s, extra);
  }
  if (Array.isArray(raw.sources)) {
    for (const k of ['fps', 'loop'] as const) if (o[k] !== undefined) raw.sources.forEach((_, i) => (origins[`sources.${i}.${k}`] = from(row(k))));
  }
  if (o.model === undefined && o.modelPath === undefined && o.scoreThreshold === undefined && o.iou === undefined) return;
  const prev = (raw.model ?? {}) as Record<string, unknown>;
  const model: Record<string, unknown> = { ...prev };
  if (o.model !== undefined) {
    model.name = o.model;
    // A new model does not inherit the old one's ONNX file.
    if (o.model !== prev.name) delete model.path;
  }
  model.name ??= row('model').default;
  if (o.modelPath !== undefined) model.path = o.modelPath;
  if (o.scoreThreshold !== undefined) model.scoreThreshold = o.scoreThreshold;
  if (o.iou !== undefined) model.iou = o.iou;
  raw.model = model;
  for (const k of ['model', 'modelPath', 'scoreThreshold', 'iou'] as const) if (o[k] !== undefined) record(origins, row(k).key, from(row(k)));
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
    applyFileAliases(raw, origins);
  }
  const layers: Array<[Overrides, (opt: Option) => string]> = [
    [envOverrides(opts.env ?? {}), (opt) => opt.env],
    [opts.flags ?? {}, (opt) => opt.flag],
  ];
  for (const [o, from] of layers) {
    for (const opt of OPTION_LIST) {
      const value = o[opt.name];
      if (value === undefined || opt.custom) continue;
      setPath(raw, opt.key, value);
      record(origins, opt.key, from(opt));
    }
    applyCustom(raw, o, from, origins);
  }
  if (!raw.sources) raw.sources = [defaultSource(opts.cameras)];
  raw.origins = origins;
  const cfg = parseConfig(raw);
  const ids = new Set<string>();
  cfg.sources.forEach((s, i) => {
    if (ids.has(s.id))
      throw new PerceptError(
        'ERR_CONFIG',
        `sources.${i}.id: two sources share the id '${s.id}'; give each an id with --source <id>=<uri> (from ${originOf(cfg, `sources.${i}.id`)})`,
      );
    ids.add(s.id);
    if ((s.kind === 'image' || s.kind === 'folder' || s.kind === 'video' || s.kind === 'webcam' || s.kind === 'rtsp') && !s.uri) {
      throw new PerceptError('ERR_CONFIG', `sources.${i}.uri: a source of kind ${s.kind} needs a uri (from ${originOf(cfg, `sources.${i}`)})`);
    }
  });
  return cfg;
}
