// One schema for the agent's configuration, whichever way it arrives (file, environment,
// flags, later the module twin). Validation errors name the field and what was expected.

import os from 'node:os';
import { z } from 'zod';
import { DEFAULT_STATE_DIR } from '../state/defaults.js';

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

/**
 * A model as the twin may name it: by name only, never by path. The name resolves to a manifest
 * in the local `modelDirs` or a built-in one; a path from the cloud could read any file.
 */
export const twinModelRefSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'a model name (a built-in model or a manifest <name>.json in the local modelDirs), not a path')
    .refine((n) => !n.endsWith('.json'), 'a model name without .json (the twin names models; paths stay local)'),
  scoreThreshold: z.number().min(0).max(1).optional(),
  iou: z.number().min(0).max(1).optional(),
});

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
  /** Webcams: read through the native V4L2 addon (the default; ffmpeg when it cannot load) or ffmpeg. */
  backend: z.enum(['native', 'ffmpeg']).optional(),
  /** Webcams (native backend): camera controls by key (`percept cameras` lists them), set at open and live. */
  controls: z.record(z.string().regex(/^[a-z0-9_]{1,64}$/, "a control key such as 'brightness' ('percept cameras' lists them)"), z.number().int()).optional(),
});
export type SourceConfig = z.infer<typeof sourceSchema>;

/** A source as the twin may give it: its model by name only (see twinModelRefSchema). */
export const twinSourceSchema = sourceSchema.extend({ model: twinModelRefSchema.optional() });

export const PROVIDERS = ['cpu', 'openvino', 'cuda', 'tensorrt', 'dml', 'coreml', 'webgpu', 'xnnpack', 'qnn'] as const;

/** One inference worker per CPU core (at least 1, at most 16). */
function defaultWorkers(): number {
  return Math.max(1, Math.min(os.availableParallelism(), 16));
}

export const configSchema = z.strictObject({
  sources: z.array(sourceSchema).min(1).max(16),
  model: modelRefSchema.default({ name: 'blazeface-back' }),
  /** Inference workers per model; each holds one session. One per core by default. */
  workers: z.number().int().min(1).max(16).default(defaultWorkers),
  /** intraOpNumThreads of each worker's session. */
  threads: z.number().int().min(1).max(64).default(1),
  /** Execution providers in order of preference; CPU is always the last resort. */
  providers: z.array(z.enum(PROVIDERS)).min(1).default(['cpu']),
  /** Stop after this many results (all sources together). */
  frames: z.number().int().positive().optional(),
  output: z.enum(['jsonl', 'summary', 'none']).default('summary'),
  preview: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Loopback by default; any other address requires a token. */
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8090),
      /** Required when host is not loopback; generated and logged when missing. */
      token: z.string().min(16).optional(),
      /** Frames per second sent to an open page. */
      maxFps: z.number().positive().max(30).default(10),
    })
    .prefault({}),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  telemetry: z
    .strictObject({
      /** One message per source per interval. */
      intervalMs: z.number().int().min(100).max(3_600_000).default(1000),
      /** `percept` (this project's schema) or `percept-compat` (azureeyemodule's NEURAL_NETWORK body). */
      schema: z.enum(['percept', 'percept-compat']).default('percept'),
    })
    .prefault({}),
  hub: z
    .strictObject({
      /** Device or module connection string (SAS key, or x509=true with cert and key). */
      connectionString: z.string().min(1).optional(),
      /** Run as an IoT Edge module: identity and trust from the IoT Edge environment. */
      edge: z.boolean().default(false),
      /** CA certificate (PEM file) to trust, e.g. the local emulator's ca.pem. */
      ca: z.string().min(1).optional(),
      /** X.509 client certificate and key (PEM files) for x509=true connection strings. */
      cert: z.string().min(1).optional(),
      key: z.string().min(1).optional(),
      transport: z.enum(['mqtt', 'mqttws']).default('mqtt'),
      /** Output name for module messages (edgeHub routes). */
      output: z.string().min(1).default('detections'),
      /** SQLite file of the durable outbox. */
      outbox: z.string().min(1).optional(),
      /** Bound on the outbox's queued bytes (bodies and properties). */
      outboxMaxBytes: z.number().int().min(64 * 1024).default(256 * 1024 * 1024),
      /** Messages older than this are dropped, counted as `expired` (edgeHub's default). */
      ttlSeconds: z.number().int().min(1).max(30 * 86400).default(7200),
      /** At the byte bound or on a full disk: drop the oldest messages, or refuse new ones. */
      whenFull: z.enum(['drop-oldest', 'refuse-new']).default('drop-oldest'),
      /** Messages in flight (QoS 1) at most. */
      window: z.number().int().min(1).max(256).default(16),
      /** A send not acknowledged within this long forces a reconnect (the silent-hang watchdog). */
      sendTimeoutMs: z.number().int().min(500).max(600_000).default(30_000),
      /** Validity of each SAS token; the link reconnects with a fresh one before it expires. */
      tokenTtlSeconds: z.number().int().min(5).max(365 * 86400).default(3600),
      /** Bounds of the full-jitter backoff between connection attempts. */
      backoffMinMs: z.number().int().min(10).max(600_000).default(500),
      backoffMaxMs: z.number().int().min(10).max(3_600_000).default(30_000),
    })
    .optional(),
  attest: z
    .strictObject({
      /** Who signs checkpoints: the TPM, a software key (marked as such), or nobody. */
      signer: z.enum(['tpm', 'software', 'none']).default('software'),
      /** TPM access: device:/dev/tpmrm0 (default) or swtpm:host=127.0.0.1,port=2321. */
      tcti: z.string().min(1).default('device:/dev/tpmrm0'),
      /** Software signing key (PEM), created on first use; default <stateDir>/signing-key.pem. */
      keyFile: z.string().min(1).optional(),
      /** A signature at most this often; it covers every message before it. */
      checkpointMs: z.number().int().min(100).max(3_600_000).default(1000),
    })
    .prefault({}),
  /**
   * Folders of the operator's own model manifests: a model name is looked up there before the
   * built-in ones, and manifests there may name ONNX and label files anywhere inside them.
   */
  modelDirs: z.array(z.string().min(1)).max(16).default([]),
  /** Folder for the outbox, the last applied twin configuration and keys. */
  stateDir: z.string().min(1).default(DEFAULT_STATE_DIR),
  /**
   * Where each value came from, by dotted key (`hub.ca`: `--ca`, `PERCEPT_CA` or `hub.ca in
   * config file <f>`), so an error names the input to fix. Filled by loadConfig; not a setting.
   */
  origins: z.record(z.string(), z.string()).default({}),
});

export type Config = z.infer<typeof configSchema>;

/** Where the value at `key` came from; the longest recorded prefix of the key wins. */
export function originOf(cfg: { origins?: Record<string, string> }, key: string): string {
  const origins = cfg.origins ?? {};
  for (let k = key; k !== ''; k = k.includes('.') ? k.slice(0, k.lastIndexOf('.')) : '') {
    if (origins[k] !== undefined) return origins[k];
  }
  return `${key} (default)`;
}
export type ConfigInput = z.input<typeof configSchema>;
