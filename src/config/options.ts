// The option table: every setting of `percept run` declared once, with its flag, environment
// variable, config key, type and bounds, default, help line and whether the twin may set it.
// Parsing, --help, the environment, the config file schema, the twin's checks and
// docs/configuration.md are all derived from it (see derive.ts, reference.ts).

import os from 'node:os';
import { DEFAULT_STATE_DIR } from '../state/defaults.js';
import { bool, int, listOf, num, oneOf, text, type ValueType } from './value.js';

export const PROVIDERS = ['cpu', 'openvino', 'cuda', 'tensorrt', 'dml', 'coreml', 'webgpu', 'xnnpack', 'qnn'] as const;
export const MOTION_MODES = ['auto', 'on', 'off'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The groups of `percept run --help`, in order, with their headings. */
export const GROUPS = {
  sources: 'Sources (repeat --source for several cameras; default the first camera found, else the demo)',
  model: 'Model',
  inference: 'Inference',
  hub: 'IoT Hub (telemetry, module twin, direct methods)',
  attest: 'Attestation (signed hash chain over the telemetry)',
  motion: 'Motion gate (infer only while something moves, a track lives, or a keyframe is due; per source: sources[].motion, sources[].motionMasks)',
  preview: 'Preview (http://127.0.0.1:8090: live frames with boxes; /metrics, /healthz, /readyz even with the page off)',
  events: 'Events (tracks across frames; zones and lines are per source, in the config file or the twin)',
  output: 'Output',
} as const;
export type Group = keyof typeof GROUPS;

export interface OptionDef {
  /** Dotted key in the config file (`hub.sendTimeoutMs`); `sources[].fps` for a key of every source. */
  readonly key: string;
  readonly flag: `--${string}`;
  /** Other names of the flag (kept when a flag is renamed). */
  readonly aliases?: readonly `--${string}`[];
  readonly env: `PERCEPT_${string}`;
  /** The flag's argument in --help; none for a switch. */
  readonly arg?: string;
  readonly type: ValueType<unknown>;
  /** The value when nothing sets it (a function when it depends on the machine). */
  readonly default?: unknown;
  /** The default as the help and the reference say it, when it is not the plain value. */
  readonly defaultText?: string;
  /** One line (a `\n` continues it in --help). */
  readonly help: string;
  readonly group: Group;
  /** Desired-property keys the twin may set it with, the first one primary, the others accepted names. */
  readonly twin?: readonly string[];
  /** How the twin reaches it when that is by a structured key (desired.ts), for the reference. */
  readonly twinNote?: string;
  /** Applied by load.ts's own mapping (sources, model references), not set at `key` as is. */
  readonly custom?: true;
  /** A file path: relative to the config file's folder when given there. */
  readonly path?: true;
  /** The flag may be given more than once (each adds to the list). */
  readonly repeat?: true;
  /** A switch that sets the key to false (`--no-preview`); the environment variable stays positive. */
  readonly negate?: true;
  /** The flag and the environment give the value in this unit (`MiB`), the key holds `factor` times it. */
  readonly unit?: { readonly name: string; readonly factor: number };
  /** Older names of the key still read from a config file. */
  readonly fileAliases?: readonly string[];
}

/** One inference worker per CPU core (at least 1, at most 16). */
/** A bound in bytes that flags and variables give in MiB: at least `minBytes`, by default `mib` MiB. */
function mebibytes(minBytes: number, mib: number) {
  return { arg: 'N', type: int(minBytes, 2 ** 40), unit: { name: 'MiB', factor: 1024 * 1024 }, default: mib * 1024 * 1024, defaultText: `${mib} MiB` } as const;
}

function defaultWorkers(): number {
  return Math.max(1, Math.min(os.availableParallelism(), 16));
}

const MS_HOUR = 3_600_000;
const DAY = 86_400;

/** Rows are named as their value is in a flags object (`loadConfig({ flags: { workers: 2 } })`). */
export const OPTIONS = {
  // Sources: a list of objects in the file (schema.ts); these flags build or adjust it.
  sources: {
    key: 'sources',
    flag: '--source',
    env: 'PERCEPT_SOURCE',
    arg: '[id=]<spec>',
    type: listOf(text(), 1, 16),
    repeat: true,
    custom: true,
    twinNote: '`sources` (live kinds only)',
    group: 'sources',
    defaultText: 'the first camera found (percept cameras), else demo',
    help: "a folder or image file, a video file, /dev/videoN, rtsp://...,\n'demo' (sample photos, panned and zoomed) or 'synthetic' (test pattern); PERCEPT_SOURCE takes a,b",
  },
  fps: {
    key: 'sources[].fps',
    flag: '--fps',
    env: 'PERCEPT_FPS',
    arg: 'N',
    type: num(0, 240, { above: true }),
    custom: true,
    group: 'sources',
    defaultText: 'unpaced',
    help: 'pace the sources at N frames/s (files are paced by the pool otherwise)',
  },
  loop: {
    key: 'sources[].loop',
    flag: '--loop',
    env: 'PERCEPT_LOOP',
    type: bool(),
    default: false,
    custom: true,
    group: 'sources',
    help: 'start folders and files again at their end',
  },

  // The top-level model reference (a structured key too: see schema.ts).
  model: {
    key: 'model.name',
    flag: '--model',
    env: 'PERCEPT_MODEL',
    arg: '<name|manifest.json>',
    type: text(),
    default: 'blazeface-back',
    custom: true,
    twinNote: '`model.name` (a name, never a path)',
    group: 'model',
    help: 'built-in: blazeface-back, blazeface-front, yolox-nano; or a manifest file',
  },
  modelPath: {
    key: 'model.path',
    flag: '--model-path',
    env: 'PERCEPT_MODEL_PATH',
    arg: '<file.onnx>',
    type: text(),
    path: true,
    custom: true,
    group: 'model',
    defaultText: "the manifest's file",
    help: 'the ONNX file (required for yolox-nano)',
  },
  scoreThreshold: {
    key: 'model.scoreThreshold',
    flag: '--score-threshold',
    env: 'PERCEPT_SCORE_THRESHOLD',
    arg: 'X',
    type: num(0, 1),
    twin: ['scoreThreshold'],
    custom: true,
    group: 'model',
    defaultText: 'from the manifest',
    help: 'minimum confidence',
  },
  iou: {
    key: 'model.iou',
    flag: '--iou',
    env: 'PERCEPT_IOU',
    arg: 'X',
    type: num(0, 1),
    custom: true,
    group: 'model',
    defaultText: 'from the manifest',
    help: 'NMS IoU threshold',
  },
  modelDirs: {
    key: 'modelDirs',
    flag: '--model-dir',
    env: 'PERCEPT_MODEL_DIRS',
    arg: '<dir>',
    type: listOf(text(), 0, 16),
    default: [],
    path: true,
    repeat: true,
    group: 'model',
    help: 'a folder of your own model manifests, looked up before the built-in ones (repeatable)',
  },

  workers: {
    key: 'workers',
    flag: '--workers',
    env: 'PERCEPT_WORKERS',
    arg: 'N',
    type: int(1, 16),
    default: defaultWorkers,
    defaultText: 'one per CPU core, at most 16',
    twin: ['workers'],
    group: 'inference',
    help: 'inference worker threads',
  },
  threads: {
    key: 'threads',
    flag: '--threads',
    env: 'PERCEPT_THREADS',
    arg: 'N',
    type: int(1, 64),
    default: 1,
    twin: ['threads'],
    group: 'inference',
    help: 'intra-op threads per worker',
  },
  providers: {
    key: 'providers',
    flag: '--providers',
    env: 'PERCEPT_PROVIDERS',
    arg: 'a,b',
    type: listOf(oneOf(PROVIDERS), 1, PROVIDERS.length),
    default: ['cpu'],
    twin: ['providers'],
    group: 'inference',
    help: 'execution providers in order of preference, e.g. openvino,cpu',
  },

  connectionString: {
    key: 'hub.connectionString',
    flag: '--connection-string',
    env: 'PERCEPT_CONNECTION_STRING',
    arg: '<cs>',
    type: text(),
    group: 'hub',
    help: 'device or module connection string (SAS key, or x509=true with --cert and --key)',
  },
  ca: {
    key: 'hub.ca',
    flag: '--ca',
    env: 'PERCEPT_CA',
    arg: '<ca.pem>',
    type: text(),
    path: true,
    group: 'hub',
    help: "CA to trust, e.g. the local emulator's <state>/ca.pem",
  },
  cert: {
    key: 'hub.cert',
    flag: '--cert',
    env: 'PERCEPT_CERT',
    arg: '<pem>',
    type: text(),
    path: true,
    group: 'hub',
    help: 'X.509 client certificate (connection string with x509=true)',
  },
  key: { key: 'hub.key', flag: '--key', env: 'PERCEPT_KEY', arg: '<pem>', type: text(), path: true, group: 'hub', help: "the X.509 client certificate's key" },
  edge: {
    key: 'hub.edge',
    flag: '--edge',
    env: 'PERCEPT_EDGE',
    type: bool(),
    default: false,
    group: 'hub',
    help: "run as an IoT Edge module (automatic when IoT Edge's variables are set)",
  },
  transport: {
    key: 'hub.transport',
    flag: '--transport',
    env: 'PERCEPT_TRANSPORT',
    arg: 'mqtt|mqttws',
    type: oneOf(['mqtt', 'mqttws']),
    default: 'mqtt',
    group: 'hub',
    help: 'MQTT over TLS (8883) or over WebSockets (443)',
  },
  telemetryInterval: {
    key: 'telemetry.intervalMs',
    flag: '--telemetry-interval',
    env: 'PERCEPT_TELEMETRY_INTERVAL',
    arg: 'MS',
    type: int(100, MS_HOUR),
    default: 1000,
    twin: ['telemetry.intervalMs', 'TelemetryIntervalNeuralNetworkMs'],
    group: 'hub',
    help: 'one message per source per interval',
  },
  telemetrySchema: {
    key: 'telemetry.schema',
    flag: '--telemetry-schema',
    env: 'PERCEPT_TELEMETRY_SCHEMA',
    arg: 'percept|percept-compat',
    type: oneOf(['percept', 'percept-compat']),
    default: 'percept',
    twin: ['telemetry.schema'],
    group: 'hub',
    help: "this project's schema, or azureeyemodule's body",
  },
  outputName: {
    key: 'telemetry.output',
    flag: '--output-name',
    env: 'PERCEPT_OUTPUT_NAME',
    arg: '<name>',
    type: text(),
    default: 'detections',
    fileAliases: ['hub.output'],
    group: 'hub',
    help: "IoT Edge output the messages leave by (edgeHub routes), e.g. azureeyemodule's AzureEyeModuleOutput",
  },
  telemetryMode: {
    key: 'telemetry.mode',
    flag: '--telemetry-mode',
    env: 'PERCEPT_TELEMETRY_MODE',
    arg: 'windows|events|both',
    type: oneOf(['windows', 'events', 'both']),
    default: 'both',
    twin: ['telemetry.mode'],
    group: 'hub',
    help: 'send per-interval windows, track events (percept.event/1), or both',
  },
  eventsOutputName: {
    key: 'telemetry.eventsOutput',
    flag: '--events-output-name',
    env: 'PERCEPT_EVENTS_OUTPUT_NAME',
    arg: '<name>',
    type: text(),
    default: 'events',
    group: 'hub',
    help: 'IoT Edge output the event messages leave by (edgeHub routes)',
  },
  outbox: {
    key: 'hub.outbox',
    flag: '--outbox',
    env: 'PERCEPT_OUTBOX',
    arg: '<file.db>',
    type: text(),
    path: true,
    group: 'hub',
    defaultText: '<state-dir>/outbox.db',
    help: 'the durable outbox (SQLite)',
  },
  outboxMaxBytes: {
    key: 'hub.outboxMaxBytes',
    flag: '--outbox-max-mb',
    env: 'PERCEPT_OUTBOX_MAX_MB',
    ...mebibytes(64 * 1024, 256),
    group: 'hub',
    help: 'bound on the queued messages (bodies and properties), in MiB',
  },
  ttlSeconds: {
    key: 'hub.ttlSeconds',
    flag: '--outbox-ttl',
    env: 'PERCEPT_OUTBOX_TTL',
    arg: 'S',
    type: int(1, 30 * DAY),
    default: 7200,
    group: 'hub',
    help: "drop messages older than S seconds, counted as expired (edgeHub's default)",
  },
  whenFull: {
    key: 'hub.whenFull',
    flag: '--when-full',
    env: 'PERCEPT_WHEN_FULL',
    arg: 'drop-oldest|refuse-new',
    type: oneOf(['drop-oldest', 'refuse-new']),
    default: 'drop-oldest',
    group: 'hub',
    help: 'at the bound or on a full disk',
  },
  window: {
    key: 'hub.window',
    flag: '--send-window',
    env: 'PERCEPT_SEND_WINDOW',
    arg: 'N',
    type: int(1, 256),
    default: 16,
    group: 'hub',
    help: 'messages in flight (QoS 1) at most',
  },
  sendTimeoutMs: {
    key: 'hub.sendTimeoutMs',
    flag: '--send-timeout',
    env: 'PERCEPT_SEND_TIMEOUT',
    arg: 'MS',
    type: int(500, 600_000),
    default: 30_000,
    group: 'hub',
    help: 'no acknowledgement within MS forces a reconnect',
  },
  connectTimeoutMs: {
    key: 'hub.connectTimeoutMs',
    flag: '--connect-timeout',
    env: 'PERCEPT_CONNECT_TIMEOUT',
    arg: 'MS',
    type: int(1000, 600_000),
    default: 30_000,
    group: 'hub',
    help: 'a connection attempt the hub does not answer within MS is abandoned and retried',
  },
  tokenTtlSeconds: {
    key: 'hub.tokenTtlSeconds',
    flag: '--token-ttl',
    env: 'PERCEPT_TOKEN_TTL',
    arg: 'S',
    type: int(5, 365 * DAY),
    default: 3600,
    group: 'hub',
    help: 'SAS token validity; renewed by reconnecting before expiry',
  },
  backoffMinMs: {
    key: 'hub.backoffMinMs',
    flag: '--backoff-min',
    env: 'PERCEPT_BACKOFF_MIN',
    arg: 'MS',
    type: int(10, 600_000),
    default: 500,
    group: 'hub',
    help: 'shortest wait between connection attempts (full jitter)',
  },
  backoffMaxMs: {
    key: 'hub.backoffMaxMs',
    flag: '--backoff-max',
    env: 'PERCEPT_BACKOFF_MAX',
    arg: 'MS',
    type: int(10, MS_HOUR),
    default: 30_000,
    group: 'hub',
    help: 'longest wait between connection attempts',
  },
  stateDir: {
    key: 'stateDir',
    flag: '--state-dir',
    env: 'PERCEPT_STATE_DIR',
    arg: '<dir>',
    type: text(),
    path: true,
    default: DEFAULT_STATE_DIR,
    defaultText: '~/.percept/state',
    group: 'hub',
    help: 'outbox, last applied twin configuration, signing key, lock',
  },

  signer: {
    key: 'attest.signer',
    flag: '--signer',
    env: 'PERCEPT_SIGNER',
    arg: 'tpm|software|none',
    type: oneOf(['tpm', 'software', 'none']),
    default: 'software',
    group: 'attest',
    help: 'who signs checkpoints (software: a key file, marked as such)',
  },
  tcti: {
    key: 'attest.tcti',
    flag: '--tcti',
    env: 'PERCEPT_TCTI',
    arg: '<string>',
    type: text(),
    default: 'device:/dev/tpmrm0',
    group: 'attest',
    help: 'TPM access, e.g. swtpm:host=127.0.0.1,port=2321;\nalso signs SAS tokens when the connection string says SharedAccessKeyInTpm=true',
  },
  keyFile: {
    key: 'attest.keyFile',
    flag: '--signing-key',
    env: 'PERCEPT_SIGNING_KEY',
    arg: '<key.pem>',
    type: text(),
    path: true,
    defaultText: '<state-dir>/signing-key.pem',
    group: 'attest',
    help: 'software signing key (PEM), created on first use',
  },
  checkpointMs: {
    key: 'attest.checkpointMs',
    flag: '--checkpoint-interval',
    env: 'PERCEPT_CHECKPOINT_INTERVAL',
    arg: 'MS',
    type: int(100, MS_HOUR),
    default: 1000,
    group: 'attest',
    help: 'a signature at most this often; it covers every message before it',
  },

  motion: {
    key: 'motion.enabled',
    flag: '--motion',
    env: 'PERCEPT_MOTION',
    arg: 'auto|on|off',
    type: oneOf(MOTION_MODES),
    default: 'auto',
    twin: ['motion.enabled'],
    group: 'motion',
    help: 'skip frames without motion (auto: on for webcam, stream, demo and synthetic sources,\noff for images, folders and video files)',
  },
  motionKeyframeSeconds: {
    key: 'motion.keyframeSeconds',
    flag: '--motion-keyframe',
    env: 'PERCEPT_MOTION_KEYFRAME',
    arg: 'S',
    type: num(0, 3600, { above: true }),
    default: 5,
    twin: ['motion.keyframeSeconds'],
    group: 'motion',
    help: 'infer one frame at least every S seconds even when nothing moves',
  },
  motionIdleFps: {
    key: 'motion.idleFps',
    flag: '--motion-idle-fps',
    env: 'PERCEPT_MOTION_IDLE_FPS',
    arg: 'N',
    type: num(0, 240),
    default: 5,
    twin: ['motion.idleFps'],
    group: 'motion',
    help: 'while nothing moves, judge at most N frames a second (the others are skipped unread); 0: every frame',
  },
  motionThreshold: {
    key: 'motion.threshold',
    flag: '--motion-threshold',
    env: 'PERCEPT_MOTION_THRESHOLD',
    arg: 'N',
    type: int(1, 255),
    default: 30,
    twin: ['motion.threshold'],
    group: 'motion',
    help: 'grey levels (of 255) a pixel must differ from the background by',
  },
  motionMinArea: {
    key: 'motion.minArea',
    flag: '--motion-min-area',
    env: 'PERCEPT_MOTION_MIN_AREA',
    arg: 'N',
    type: int(0, 100_000),
    default: 10,
    twin: ['motion.minArea'],
    group: 'motion',
    help: 'pixels of the motion image a changed region must cover to count',
  },
  motionFrameHeight: {
    key: 'motion.frameHeight',
    flag: '--motion-frame-height',
    env: 'PERCEPT_MOTION_FRAME_HEIGHT',
    arg: 'N',
    type: int(32, 480),
    default: 120,
    twin: ['motion.frameHeight'],
    group: 'motion',
    help: 'height in pixels of the grey image motion is measured on',
  },
  motionBackgroundWeight: {
    key: 'motion.backgroundWeight',
    flag: '--motion-background-weight',
    env: 'PERCEPT_MOTION_BACKGROUND_WEIGHT',
    arg: 'X',
    type: num(0, 1, { above: true }),
    default: 0.01,
    twin: ['motion.backgroundWeight'],
    group: 'motion',
    help: 'weight of each still frame in the running-average background',
  },
  motionRecalibrate: {
    key: 'motion.recalibrateFraction',
    flag: '--motion-recalibrate',
    env: 'PERCEPT_MOTION_RECALIBRATE',
    arg: 'X',
    type: num(0, 1, { above: true }),
    default: 0.8,
    twin: ['motion.recalibrateFraction'],
    group: 'motion',
    help: 'a change over more than this share of the frame at once is lighting: relearn the background',
  },
  motionContrast: {
    key: 'motion.improveContrast',
    flag: '--motion-contrast',
    env: 'PERCEPT_MOTION_CONTRAST',
    arg: 'true|false',
    type: bool(),
    default: true,
    twin: ['motion.improveContrast'],
    group: 'motion',
    help: "stretch each frame's grey levels to the recent range (dim or hazy scenes)",
  },

  previewPort: {
    key: 'preview.port',
    flag: '--preview-port',
    env: 'PERCEPT_PREVIEW_PORT',
    arg: 'N',
    type: int(0, 65535),
    default: 8090,
    group: 'preview',
    help: '0 picks a free port',
  },
  previewHost: {
    key: 'preview.host',
    flag: '--preview-host',
    env: 'PERCEPT_PREVIEW_HOST',
    arg: '<addr>',
    type: text(),
    default: '127.0.0.1',
    group: 'preview',
    help: 'other than loopback requires a token (printed at start)',
  },
  previewToken: {
    key: 'preview.token',
    flag: '--preview-token',
    env: 'PERCEPT_PREVIEW_TOKEN',
    arg: '<token>',
    type: text({ min: 16 }),
    defaultText: 'generated when needed',
    group: 'preview',
    help: 'the token the page asks for',
  },
  previewMaxFps: {
    key: 'preview.maxFps',
    flag: '--preview-max-fps',
    env: 'PERCEPT_PREVIEW_MAX_FPS',
    arg: 'N',
    type: num(0, 30, { above: true }),
    default: 10,
    twin: ['preview.maxFps'],
    group: 'preview',
    help: 'frames per second sent to an open page',
  },
  preview: {
    key: 'preview.enabled',
    flag: '--no-preview',
    env: 'PERCEPT_PREVIEW',
    type: bool(),
    default: true,
    negate: true,
    twin: ['preview.enabled'],
    group: 'preview',
    help: 'do not serve the preview page and streams; /healthz, /readyz and /metrics stay on the port (PERCEPT_PREVIEW=false)',
  },

  trackHighScore: {
    key: 'tracker.highScore',
    flag: '--track-high-score',
    env: 'PERCEPT_TRACK_HIGH_SCORE',
    arg: 'X',
    type: num(0, 1),
    default: 0.5,
    twin: ['tracker.highScore'],
    group: 'events',
    help: 'detections scoring X or more are matched first and may start a track; lower ones only keep one',
  },
  trackMatchIou: {
    key: 'tracker.matchIou',
    flag: '--track-match-iou',
    env: 'PERCEPT_TRACK_MATCH_IOU',
    arg: 'X',
    type: num(0, 1, { above: true }),
    default: 0.2,
    twin: ['tracker.matchIou'],
    group: 'events',
    help: "least overlap (IoU) of a detection with a track's predicted box for a match",
  },
  trackTimeout: {
    key: 'tracker.timeoutSeconds',
    flag: '--track-timeout',
    env: 'PERCEPT_TRACK_TIMEOUT',
    arg: 'S',
    type: num(0.1, 3600),
    default: 5,
    twin: ['tracker.timeoutSeconds'],
    group: 'events',
    help: "a track unseen for S seconds of the source's frames (fps x S frames) ends",
  },
  stationarySeconds: {
    key: 'tracker.stationarySeconds',
    flag: '--stationary-after',
    env: 'PERCEPT_STATIONARY_AFTER',
    arg: 'S',
    type: num(0.1, 86_400),
    default: 10,
    twin: ['tracker.stationarySeconds'],
    group: 'events',
    help: 'a track whose box stays put for S seconds of frames becomes stationary (an update, not a new event)',
  },
  eventThreshold: {
    key: 'tracker.threshold',
    flag: '--event-threshold',
    env: 'PERCEPT_EVENT_THRESHOLD',
    arg: 'X',
    type: num(0, 1),
    default: 0.5,
    twin: ['tracker.threshold'],
    group: 'events',
    help: 'a confirmed track is announced (its new event) once the median score of its detections reaches X',
  },
  eventsMaxBytes: {
    key: 'events.maxBytes',
    flag: '--events-max-mb',
    env: 'PERCEPT_EVENTS_MAX_MB',
    ...mebibytes(1024 * 1024, 64),
    group: 'events',
    help: "bound on the tracks' snapshots kept in <state-dir>/events, in MiB (oldest removed first)",
  },
  eventsRetention: {
    key: 'events.retentionSeconds',
    flag: '--events-retention',
    env: 'PERCEPT_EVENTS_RETENTION',
    arg: 'S',
    type: int(60, 365 * DAY),
    default: DAY,
    group: 'events',
    help: 'events and snapshots older than S seconds are dropped',
  },

  frames: {
    key: 'frames',
    flag: '--frames',
    env: 'PERCEPT_FRAMES',
    arg: 'N',
    type: int(1, Number.MAX_SAFE_INTEGER),
    defaultText: 'run until stopped',
    group: 'output',
    help: 'stop after N results (all sources together)',
  },
  output: {
    key: 'output',
    flag: '--output',
    env: 'PERCEPT_OUTPUT',
    arg: 'jsonl|events|summary|none',
    type: oneOf(['jsonl', 'events', 'summary', 'none']),
    default: 'summary',
    group: 'output',
    help: "one JSON object per frame on stdout (with the source's tracks), one per track event (new, update, end), or a live summary",
  },
  logLevel: {
    key: 'logLevel',
    flag: '--log-level',
    env: 'PERCEPT_LOG_LEVEL',
    arg: '<level>',
    type: oneOf(LOG_LEVELS),
    default: 'info',
    twin: ['logLevel'],
    group: 'output',
    help: 'fatal, error, warn, info, debug, trace, silent',
  },
} as const satisfies Record<string, OptionDef>;

export type OptionName = keyof typeof OPTIONS;
export type Option = OptionDef & { readonly name: OptionName };

/** The rows in table order. */
export const OPTION_LIST: readonly Option[] = Object.entries(OPTIONS).map(([name, def]) => ({ name: name as OptionName, ...(def as OptionDef) }));

/** Flags of the command itself, not settings: listed in --help and checked for typos like the others. */
export const COMMAND_FLAGS = [
  { flag: '--config', env: 'PERCEPT_CONFIG', arg: '<file.json>', help: 'configuration file (flags and PERCEPT_* variables override it)', group: 'output' },
  { flag: '--help', short: '-h', help: 'this help', group: 'output' },
] as const;

/**
 * PERCEPT_* variables read elsewhere (native addons, the demo photos, telemetry opt-in) or by
 * tests (PERCEPT_TEST_*): known, so not warned about.
 */
export const OTHER_ENV = [
  'PERCEPT_CONFIG',
  'PERCEPT_ORT_TELEMETRY',
  'PERCEPT_DEMO_DIR',
  'PERCEPT_TPM2_ADDON',
  'PERCEPT_V4L2_ADDON',
  'PERCEPT_V4L2_DEVICE',
  'PERCEPT_TOKEN_TEST_SECONDS',
];
