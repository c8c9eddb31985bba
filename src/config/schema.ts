// One schema for the agent's configuration, whichever way it arrives (file, environment,
// flags, the module twin): the structured keys (sources, model references) by hand here, each
// scalar setting from the option table. A source is one object so new keys slot in beside uri.

import { z } from 'zod';
import { OPTIONS, OPTION_LIST } from './options.js';
import { scalarShape, type ScalarConfig } from './derive.js';
import { num } from './value.js';

export { PROVIDERS } from './options.js';

export const SOURCE_KINDS = ['image', 'folder', 'video', 'rtsp', 'webcam', 'synthetic', 'demo'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, _ . - (max 64), starting with a letter or digit');

export const modelRefSchema = z.strictObject({
  /** Built-in manifest name (models/<name>.json) or a path to a manifest .json. */
  name: z.string().min(1),
  /** ONNX file overriding the manifest's `file`. */
  path: z.string().min(1).optional(),
  scoreThreshold: OPTIONS.scoreThreshold.type.zod.optional(),
  iou: OPTIONS.iou.type.zod.optional(),
});
export type ModelRef = z.infer<typeof modelRefSchema>;

/** A model package the twin names (see src/agent/model-update.ts). */
export const packageRefSchema = z.strictObject({
  url: z.string().min(1).max(4096),
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'a hex SHA-256 of the package (64 characters), as `percept model pack` prints')
    .optional(),
  size: z.number().int().positive().optional(),
  /** base64 ECDSA P-256 signature over the package's SHA-256 digest. */
  signature: z.string().min(1).max(512).optional(),
});
export type PackageRef = z.infer<typeof packageRefSchema>;

/**
 * Over-the-air model packages (the twin's `model.package` or `ModelZipUrl`). Device-only: the
 * twin cannot loosen these, so a compromised cloud account cannot push an unhashed package.
 */
export const modelUpdateSchema = z
  .strictObject({
    requireHash: z.boolean().default(true).describe('refuse a package the twin gives without a sha256'),
    allowHttp: z.boolean().default(false).describe('fetch plain http:// package URLs (development only)'),
    trustedKeys: z
      .array(z.string().min(1))
      .max(16)
      .default([])
      .describe('PEM public keys (EC P-256), inline or as file paths; when set, a package must be signed by one of them'),
    maxBytes: z
      .number()
      .int()
      .min(1024)
      .max(4 * 1024 * 1024 * 1024)
      .default(200 * 1024 * 1024)
      .describe("bound in bytes on a package's download and on its unpacked contents"),
    caFiles: z
      .array(z.string().min(1))
      .max(16)
      .default([])
      .describe("CA certificates (PEM files) trusted for downloads, beside the system's, NODE_EXTRA_CA_CERTS and hub.ca"),
    stallMs: z.number().int().min(100).max(600_000).default(30_000).describe('a download with no data for this long fails; it is tried again later, resumed'),
  })
  .prefault({});
export type ModelUpdateConfig = z.infer<typeof modelUpdateSchema>;

/**
 * A model as the twin may name it: by name only, never by path. The name resolves to a manifest
 * in the local `modelDirs` or a built-in one; a path from the cloud could read any file.
 */
export const twinModelRefSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'a model name (a built-in model or a manifest <name>.json in the local modelDirs), not a path')
    .refine((n) => !n.endsWith('.json'), 'a model name without .json (the twin names models; paths stay local)'),
  scoreThreshold: OPTIONS.scoreThreshold.type.zod.optional(),
  iou: OPTIONS.iou.type.zod.optional(),
});

/** A point of a mask, normalised to the frame: [x, y], each 0..1. */
const coord = num(0, 1).zod;
const normPoint = z.tuple([coord, coord], { error: 'expected a point [x, y] of two numbers from 0 to 1 (normalised to the frame)' });
/** A polygon in normalised coordinates: 3 to 64 points, the last joined to the first. */
export const polygonSchema = z.array(normPoint).min(3, 'a polygon needs at least 3 points [x, y]').max(64, 'a polygon has at most 64 points');

/** Each motion.* row of the option table, under its name within motion (`keyframeSeconds`). */
type Rows = typeof OPTIONS;
type MotionName<K extends keyof Rows> = Rows[K]['key'] extends `motion.${infer N}` ? N : never;
type MotionShape = { [K in keyof Rows as MotionName<K>]: z.ZodOptional<Rows[K]['type']['zod']> };
const motionShape = Object.fromEntries(
  OPTION_LIST.filter((o) => o.key.startsWith('motion.')).map((o) => [o.key.slice('motion.'.length), o.type.zod.optional()]),
) as unknown as MotionShape;

/** A source's own motion settings: any of the motion.* settings, overriding the top-level ones
 * (derived from the table: a new motion.* row is a per-source setting too). */
export const sourceMotionSchema = z.strictObject(motionShape);
export type SourceMotion = z.infer<typeof sourceMotionSchema>;

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$/, 'letters, digits, space, _ . - (max 64), starting with a letter or digit');
/** Zones and lines take points as masks do: [x, y], 0..1 from the frame's top left. */
const point = normPoint;

/** A zone: a polygon a track is in when the bottom centre of its box is. */
export const zoneSchema = z.strictObject({ name, polygon: z.array(point).min(3).max(64) });
/** A line (a polyline): crossings of a track's bottom centre are counted per direction. */
export const lineSchema = z.strictObject({ name, points: z.array(point).min(2).max(64) });

const uniqueNames = (what: string) => (items: Array<{ name: string }>, ctx: z.RefinementCtx) => {
  const seen = new Set<string>();
  for (const it of items) {
    if (seen.has(it.name)) ctx.addIssue({ code: 'custom', message: `two ${what} share the name '${it.name}'` });
    seen.add(it.name);
  }
};

/**
 * A label's own threshold for announcing a track (its `new` event), over `tracker.threshold`:
 * `{ "person": 0.7, "cat": 0.4 }`. Labels as the model's manifest names them.
 */
export const labelThresholdsSchema = z
  .record(z.string().min(1).max(64), z.number().min(0).max(1))
  .refine((r) => Object.keys(r).length <= 256, 'at most 256 labels')
  .default({});

export const zonesSchema = z.array(zoneSchema).max(32).superRefine(uniqueNames('zones'));
export const linesSchema = z.array(lineSchema).max(32).superRefine(uniqueNames('lines'));

export const sourceSchema = z.strictObject({
  id,
  kind: z.enum(SOURCE_KINDS),
  /** Path, device or URL; unused by `demo`; for `synthetic`, a still photo played live instead of the test pattern. */
  uri: z.string().default(''),
  /** Pace to this rate; for live sources the capture rate asked of the device. */
  fps: OPTIONS.fps.type.zod.optional(),
  /** Folder and image sources: start again at the end. */
  loop: OPTIONS.loop.type.zod.default(false),
  width: z.number().int().min(16).max(7680).optional(),
  height: z.number().int().min(16).max(4320).optional(),
  /** Per-source model; defaults to the top-level model. */
  model: modelRefSchema.optional(),
  /** Webcams: read through the native V4L2 addon (the default; ffmpeg when it cannot load) or ffmpeg. */
  backend: z.enum(['native', 'ffmpeg']).optional(),
  /** Webcams (native backend): camera controls by key (`percept cameras` lists them), set at open and live. */
  controls: z.record(z.string().regex(/^[a-z0-9_]{1,64}$/, "a control key such as 'brightness' ('percept cameras' lists them)"), z.number().int()).optional(),
  /** Motion gate settings of this source, over the top-level motion.* ones. */
  motion: sourceMotionSchema.optional(),
  /** Areas where motion is ignored (timestamps, trees in the wind), as normalised polygons. */
  motionMasks: z.array(polygonSchema).max(32, 'at most 32 motion masks per source').optional(),
  /** Named zones in normalised coordinates: entries, exits and presence of tracks. */
  zones: zonesSchema.optional(),
  /** Named lines in normalised coordinates: crossings per direction. */
  lines: linesSchema.optional(),
});
export type SourceConfig = z.infer<typeof sourceSchema>;

/** A source as the twin may give it: its model by name only (see twinModelRefSchema). */
export const twinSourceSchema = sourceSchema.extend({ model: twinModelRefSchema.optional() });

/**
 * The whole file: the structured keys above, written by hand, and every scalar setting from the
 * option table (options.ts). `origins` records where each value came from, by dotted key
 * (`hub.ca`: `--ca`, `PERCEPT_CA` or `hub.ca in config file <f>`), so an error names the input
 * to fix; loadConfig fills it, it is not a setting.
 */
export const configSchema = z.strictObject({
  sources: z.array(sourceSchema).min(1).max(16),
  model: modelRefSchema.default({ name: OPTIONS.model.default }),
  modelUpdate: modelUpdateSchema,
  labelThresholds: labelThresholdsSchema,
  origins: z.record(z.string(), z.string()).default({}),
  ...scalarShape(),
}) as unknown as z.ZodType<Config, ConfigInput>;

export type Config = ScalarConfig & {
  sources: SourceConfig[];
  model: ModelRef;
  modelUpdate: ModelUpdateConfig;
  labelThresholds: Record<string, number>;
  origins: Record<string, string>;
};
/** What may be handed to parseConfig: sources as a file gives them, the rest as the file may say it. */
export type ConfigInput = {
  sources: Array<z.input<typeof sourceSchema>>;
  model?: ModelRef;
  modelUpdate?: z.input<typeof modelUpdateSchema>;
  labelThresholds?: Record<string, number>;
  origins?: Record<string, string>;
  [key: string]: unknown;
};

/** Where the value at `key` came from; the longest recorded prefix of the key wins. */
export function originOf(cfg: { origins?: Record<string, string> }, key: string): string {
  const origins = cfg.origins ?? {};
  for (let k = key; k !== ''; k = k.includes('.') ? k.slice(0, k.lastIndexOf('.')) : '') {
    const origin = origins[k];
    if (origin !== undefined) return origin;
  }
  return `${key} (default)`;
}
