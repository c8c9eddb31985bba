// One schema for the agent's configuration, whichever way it arrives (file, environment,
// flags, later the module twin). Validation errors name the field and what was expected.

import { z } from 'zod';

export const SOURCE_KINDS = ['image', 'folder', 'video', 'rtsp', 'webcam', 'synthetic', 'demo'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, _ . - (max 64), starting with a letter or digit');

export const modelRefSchema = z.strictObject({
  /** Built-in manifest name (models/<name>.json) or a path to a manifest .json. */
  name: z.string().min(1),
  /** ONNX file overriding the manifest's `file`. */
  path: z.string().min(1).optional(),
  scoreThreshold: z.number().min(0).max(1).optional(),
  iou: z.number().min(0).max(1).optional(),
});
export type ModelRef = z.infer<typeof modelRefSchema>;

export const sourceSchema = z.strictObject({
  id,
  kind: z.enum(SOURCE_KINDS),
  /** Path, device or URL; unused by `synthetic` and `demo`. */
  uri: z.string().default(''),
  /** Pace to this rate; for live sources the capture rate asked of the device. */
  fps: z.number().positive().max(240).optional(),
  /** Folder and image sources: start again at the end. */
  loop: z.boolean().default(false),
  width: z.number().int().min(16).max(7680).optional(),
  height: z.number().int().min(16).max(4320).optional(),
  /** Per-source model; defaults to the top-level model. */
  model: modelRefSchema.optional(),
});
export type SourceConfig = z.infer<typeof sourceSchema>;

export const PROVIDERS = ['cpu', 'openvino', 'cuda', 'tensorrt', 'dml', 'coreml', 'webgpu', 'xnnpack', 'qnn'] as const;

export const configSchema = z.strictObject({
  sources: z.array(sourceSchema).min(1).max(16),
  model: modelRefSchema.default({ name: 'blazeface-back' }),
  /** Inference workers per model; each holds one session. */
  workers: z.number().int().min(1).max(16).default(2),
  /** intraOpNumThreads of each worker's session. */
  threads: z.number().int().min(1).max(64).default(1),
  /** Execution providers in order of preference; CPU is always the last resort. */
  providers: z.array(z.enum(PROVIDERS)).min(1).default(['cpu']),
  /** Stop after this many results (all sources together). */
  frames: z.number().int().positive().optional(),
  output: z.enum(['jsonl', 'summary', 'none']).default('summary'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
