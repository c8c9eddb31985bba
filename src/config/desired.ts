// The module twin's desired properties as configuration: a patch merges into the last
// desired document (null deletes, as in IoT Hub), and the result is validated by the same
// schema as the config file. A bad document is rejected whole, with the reason. The twin may
// set only live sources: a finite one (a file or folder) would end the run from the cloud.

import { z } from 'zod';
import { configSchema, packageRefSchema, twinModelRefSchema, twinSourceSchema, PROVIDERS, type Config, type PackageRef, type SourceKind } from './schema.js';
import { formatZodError } from './load.js';
import { PerceptError } from '../errors.js';

/** Sources that run until stopped; the others end the run when they are read through. */
export const LIVE_KINDS: readonly SourceKind[] = ['webcam', 'rtsp', 'demo', 'synthetic'];

const liveSource = twinSourceSchema.refine((s) => LIVE_KINDS.includes(s.kind), {
  path: ['kind'],
  message: `the twin may set only live sources (${LIVE_KINDS.join(', ')}): a file, folder or video would end the run; give those on the command line`,
});

/** What the twin may set. Hub identity, state folder and run length stay local. */
export const desiredSchema = z.strictObject({
  sources: z.array(liveSource).min(1).max(16).optional(),
  // A model by name, or a package to download (model.package), or only thresholds.
  model: twinModelRefSchema.extend({ name: twinModelRefSchema.shape.name.optional(), package: packageRefSchema.optional() }).optional(),
  scoreThreshold: z.number().min(0).max(1).optional(),
  workers: z.number().int().min(1).max(16).optional(),
  threads: z.number().int().min(1).max(64).optional(),
  providers: z.array(z.enum(PROVIDERS)).min(1).optional(),
  telemetry: z.strictObject({ intervalMs: z.number().int().min(100).max(3_600_000).optional(), schema: z.enum(['percept', 'percept-compat']).optional() }).optional(),
  preview: z.strictObject({ enabled: z.boolean().optional(), maxFps: z.number().positive().max(30).optional() }).optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  // azureeyemodule's names, accepted where they map.
  TelemetryIntervalNeuralNetworkMs: z.number().int().min(100).max(3_600_000).optional(),
  /** azureeyemodule's model package URL, with its hash in ModelSha256 (a percept addition). */
  ModelZipUrl: z.string().max(4096).optional(),
  ModelSha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'a hex SHA-256 of the package (64 characters)').optional(),
});
export type Desired = z.infer<typeof desiredSchema>;

/**
 * Where a document holds a key that JSON gives as data but JavaScript reads as the prototype
 * (`__proto__`), or null. Assigning it would change the object's prototype and drop the key
 * silently, so such a document is rejected instead.
 */
export function forbiddenKey(doc: unknown, at = ''): string | null {
  if (!doc || typeof doc !== 'object') return null;
  // An explicit stack: a hostile document may nest deeper than the call stack.
  const stack: Array<[unknown, string]> = [[doc, at]];
  while (stack.length) {
    const [v, where] = stack.pop()!;
    if (!v || typeof v !== 'object') continue;
    for (const k of Object.keys(v)) {
      const p = where ? `${where}.${k}` : k;
      if (k === '__proto__') return p;
      stack.push([(v as Record<string, unknown>)[k], p]);
    }
  }
  return null;
}

/** Merges a desired-properties patch into a document (JSON merge patch, as the twin does). */
export function mergePatch(doc: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...doc };
  for (const [k, v] of Object.entries(patch)) {
    // `__proto__` is never merged (forbiddenKey rejects the document that holds it).
    if (k.startsWith('$') || k === '__proto__') continue;
    const cur = out[k];
    if (v === null) delete out[k];
    else if (typeof v === 'object' && !Array.isArray(v)) {
      // A new object is merged into an empty one too, so its nested keys are checked the same way.
      out[k] = mergePatch(cur && typeof cur === 'object' && !Array.isArray(cur) ? (cur as Record<string, unknown>) : {}, v as Record<string, unknown>);
    } else out[k] = v;
  }
  return out;
}

/** Strips the twin's metadata ($version, $metadata) at every level. */
export function stripMeta(doc: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    if (k.startsWith('$') || k === '__proto__') continue;
    out[k] = v && typeof v === 'object' && !Array.isArray(v) ? stripMeta(v as Record<string, unknown>) : v;
  }
  return out;
}

export interface Applied {
  config: Config;
  /** Names accepted but not acted on (reserved for later work). */
  ignored: string[];
  /** The model package the twin asks for (model.package, else ModelZipUrl), if any. */
  package?: PackageRef;
}

/** The configuration the desired document asks for, on top of the local one; throws ERR_CONFIG. */
export function applyDesired(base: Config, desiredDoc: Record<string, unknown>): Applied {
  const bad = forbiddenKey(desiredDoc);
  if (bad) throw new PerceptError('ERR_CONFIG', `invalid configuration in desired properties:\n  ${bad}: the key '__proto__' is not allowed; remove it from the desired properties`);
  const parsed = desiredSchema.safeParse(stripMeta(desiredDoc));
  if (!parsed.success) throw new PerceptError('ERR_CONFIG', formatZodError(parsed.error, 'desired properties'));
  const d = parsed.data;
  const ignored: string[] = [];
  const next: Record<string, unknown> = structuredClone(base) as unknown as Record<string, unknown>;
  if (d.sources) next.sources = d.sources;
  if (d.model) {
    const { package: _pkg, ...ref } = d.model;
    next.model = { ...(ref.name === undefined ? { name: base.model.name, path: base.model.path } : {}), ...ref };
  }
  if (d.scoreThreshold !== undefined) next.model = { ...(next.model as object), scoreThreshold: d.scoreThreshold };
  if (d.workers !== undefined) next.workers = d.workers;
  if (d.threads !== undefined) next.threads = d.threads;
  if (d.providers) next.providers = d.providers;
  if (d.logLevel) next.logLevel = d.logLevel;
  const telemetry = { ...base.telemetry };
  if (d.TelemetryIntervalNeuralNetworkMs !== undefined) telemetry.intervalMs = d.TelemetryIntervalNeuralNetworkMs;
  if (d.telemetry?.intervalMs !== undefined) telemetry.intervalMs = d.telemetry.intervalMs;
  if (d.telemetry?.schema) telemetry.schema = d.telemetry.schema;
  next.telemetry = telemetry;
  if (d.preview) next.preview = { ...base.preview, ...d.preview };
  const pkg = d.model?.package ?? (d.ModelZipUrl ? { url: d.ModelZipUrl, sha256: d.ModelSha256 } : undefined);
  const r = configSchema.safeParse(next);
  if (!r.success) throw new PerceptError('ERR_CONFIG', formatZodError(r.error, 'desired properties'));
  const ids = new Set<string>();
  for (const s of r.data.sources) {
    if (ids.has(s.id)) throw new PerceptError('ERR_CONFIG', `invalid configuration in desired properties: two sources share the id '${s.id}'`);
    ids.add(s.id);
  }
  return { config: r.data, ignored, ...(pkg ? { package: pkg } : {}) };
}
