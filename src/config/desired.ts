// The module twin's desired properties as configuration: a patch merges into the last
// desired document (null deletes, as in IoT Hub), and the result is validated by the same
// schema as the config file. A bad document is rejected whole, with the reason. The twin may
// set only live sources: a finite one (a file or folder) would end the run from the cloud.

import { z } from 'zod';
import {
  configSchema,
  id,
  labelThresholdsSchema,
  linesSchema,
  packageRefSchema,
  twinModelRefSchema,
  twinSourceSchema,
  zonesSchema,
  type Config,
  type PackageRef,
  type SourceKind,
} from './schema.js';
import { OPTION_LIST } from './options.js';
import { getPath, setPath, twinShape } from './derive.js';
import { formatIssues } from './load.js';
import { PerceptError } from '../errors.js';

const FROM = 'desired properties';

/** Sources that run until stopped; the others end the run when they are read through. */
export const LIVE_KINDS: readonly SourceKind[] = ['webcam', 'rtsp', 'demo', 'synthetic'];

/** What a live source's uri may name when the twin gives it: never a file on the device. */
const TWIN_URI: Record<string, { test: (uri: string) => boolean; what: string }> = {
  webcam: { test: (u) => /^\/dev\/video\d{1,3}$/.test(u), what: 'a camera device, /dev/videoN' },
  rtsp: {
    test: (u) => /^(rtsps?|https?|rtmp|srt|udp|tcp):\/\/[^\s]+$/i.test(u),
    what: 'a network stream URL (rtsp://, rtsps://, http(s)://, rtmp://, srt://, udp://, tcp://)',
  },
  demo: { test: (u) => u === '', what: 'nothing (the demo plays built-in photos)' },
  synthetic: { test: (u) => u === '', what: 'nothing (a still photo played live is a file on the device: give it on the command line)' },
};

const liveSource = twinSourceSchema
  .refine((s) => LIVE_KINDS.includes(s.kind), {
    path: ['kind'],
    message: `the twin may set only live sources (${LIVE_KINDS.join(', ')}): a file, folder or video would end the run; give those on the command line`,
  })
  .superRefine((s, ctx) => {
    const rule = TWIN_URI[s.kind];
    if (rule && !rule.test(s.uri)) ctx.addIssue({ code: 'custom', path: ['uri'], message: `from the twin, a ${s.kind} source's uri must be ${rule.what}` });
  });

/**
 * What the twin may set: live sources and a model by name (by hand), and each setting the option
 * table marks twin-settable, under its desired key. Hub identity, state folder, output routes and
 * run length stay local.
 */
export const desiredSchema = z.strictObject({
  sources: z.array(liveSource).min(1).max(16).optional(),
  // A model by name, or a package to download (model.package), or only thresholds.
  model: twinModelRefSchema.extend({ name: twinModelRefSchema.shape.name.optional(), package: packageRefSchema.optional() }).optional(),
  /** azureeyemodule's model package URL, with its hash in ModelSha256 (a percept addition). */
  ModelZipUrl: z.string().max(4096).optional(),
  ModelSha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'a hex SHA-256 of the package (64 characters)')
    .optional(),
  /** Zones and lines by source id, for any source (a file's too): set live, without restating the sources. */
  zones: z.record(id, zonesSchema.nullable()).optional(),
  lines: z.record(id, linesSchema.nullable()).optional(),
  /** Per-label thresholds for announcing a track, replacing the whole map. */
  labelThresholds: labelThresholdsSchema.optional(),
  ...twinShape(),
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
  if (bad) throw new PerceptError('ERR_CONFIG', `${bad}: the key '__proto__' is not allowed; remove it (from ${FROM})`);
  const parsed = desiredSchema.safeParse(stripMeta(desiredDoc));
  if (!parsed.success)
    throw new PerceptError(
      'ERR_CONFIG',
      formatIssues(parsed.error, () => FROM, desiredSchema, 'not something the twin may set'),
    );
  const d = parsed.data as Record<string, unknown>;
  const ignored: string[] = [];
  const next: Record<string, unknown> = structuredClone(base);
  if (d.sources) next.sources = d.sources;
  if (d.labelThresholds) next.labelThresholds = d.labelThresholds;
  for (const key of ['zones', 'lines'] as const) {
    const bySource = d[key] as Record<string, unknown[] | null> | undefined;
    const sources = next.sources as Array<Record<string, unknown>>;
    for (const [sid, list] of Object.entries(bySource ?? {})) {
      const s = sources.find((x) => x.id === sid);
      if (!s)
        throw new PerceptError(
          'ERR_CONFIG',
          `${key}.${sid}: no source has the id '${sid}' (sources: ${sources.map((x) => String(x.id)).join(', ')}) (from ${FROM})`,
        );
      if (list === null) delete s[key];
      else s[key] = list;
    }
  }
  if (d.model) {
    // The twin names models, never paths: naming the model the device already runs keeps the
    // device's own ONNX file (--model-path), so a twin can tune that model's thresholds.
    // Without a name (only thresholds, or only a package) the device's model stays.
    const { package: _pkg, ...ref } = d.model as Partial<Config['model']> & { package?: PackageRef };
    const m = { ...ref, name: ref.name ?? base.model.name };
    next.model = m.name === base.model.name && base.model.path !== undefined ? { ...m, path: base.model.path } : m;
  }
  // Accepted names first, the primary desired key last, so it wins when both are given.
  for (const o of OPTION_LIST) {
    for (const k of [...(o.twin ?? [])].reverse()) {
      const v = getPath(d, k);
      if (v !== undefined) setPath(next, o.key, v);
    }
  }
  const model = d.model as { package?: PackageRef } | undefined;
  const pkg =
    model?.package ?? (typeof d.ModelZipUrl === 'string' && d.ModelZipUrl ? { url: d.ModelZipUrl, sha256: d.ModelSha256 as string | undefined } : undefined);
  const r = configSchema.safeParse(next);
  if (!r.success)
    throw new PerceptError(
      'ERR_CONFIG',
      formatIssues(r.error, () => FROM),
    );
  const ids = new Set<string>();
  for (const s of r.data.sources) {
    if (ids.has(s.id)) throw new PerceptError('ERR_CONFIG', `sources: two sources share the id '${s.id}' (from ${FROM})`);
    ids.add(s.id);
  }
  return { config: r.data, ignored, ...(pkg ? { package: pkg } : {}) };
}
