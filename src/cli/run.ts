// `percept run`: parses the options into a configuration, runs the agent (src/agent/run.ts)
// with its results printed as JSON lines or a live summary, and turns SIGINT, SIGTERM and
// SIGHUP into a clean stop (a second signal, a second later, exits at once).

import { parseArgs } from 'node:util';
import { loadConfig, type Overrides } from '../config/load.js';
import { captureNodes } from '../capture/cameras.js';
import { createLogger, type Logger } from '../log.js';
import { runAgent } from '../agent/run.js';
import { JsonlWriter, SummaryWriter } from './output.js';
import { intFlag, numFlag } from './args.js';

export const RUN_HELP = `Usage: percept run [options]

Runs the vision pipeline: frames from the sources, detections from the model.

Sources (repeat --source for several cameras; default /dev/video0 if present, else the demo):
  --source [id=]<spec>     a folder or image file, a video file, /dev/videoN, rtsp://...,
                           'demo' (sample photos, panned and zoomed) or 'synthetic' (test pattern)
  --fps N                  pace the sources at N frames/s (files are paced by the pool otherwise)
  --loop                   start folders and files again at their end

Model:
  --model <name|manifest.json>  built-in: blazeface-back (default), blazeface-front, yolox-nano
  --model-path <file.onnx>      the ONNX file (required for yolox-nano)
  --score-threshold X           minimum confidence, 0..1 (default from the manifest)
  --iou X                       NMS IoU threshold, 0..1

Inference:
  --workers N              inference worker threads (default: one per CPU core)
  --threads N              intra-op threads per worker (default 1)
  --providers a,b          execution providers in order, e.g. openvino,cpu (default cpu)

IoT Hub (telemetry, module twin, direct methods):
  --connection-string <cs>   device or module connection string (also PERCEPT_CONNECTION_STRING)
  --ca <ca.pem>              CA to trust, e.g. the local emulator's <state>/ca.pem
  --cert <pem> --key <pem>   X.509 client certificate and key (connection string with x509=true)
  --edge                     run as an IoT Edge module (automatic when IoT Edge's variables are set)
  --transport mqtt|mqttws    MQTT over TLS (8883, default) or over WebSockets (443)
  --telemetry-interval MS    one message per source per interval (default 1000)
  --telemetry-schema percept|percept-compat   this project's schema, or azureeyemodule's body
  --outbox <file.db>         the durable outbox (default <state-dir>/outbox.db)
  --outbox-max-mb N          bound on the queued messages in MiB (default 256)
  --outbox-ttl S             drop messages older than S seconds (default 7200, like edgeHub)
  --when-full drop-oldest|refuse-new   at the bound or on a full disk (default drop-oldest)
  --send-timeout MS          no acknowledgement within MS forces a reconnect (default 30000)
  --token-ttl S              SAS token validity; renewed by reconnecting before expiry (default 3600)
  --state-dir <dir>          outbox, last applied twin configuration, signing key (default ~/.percept/state)

Attestation (signed hash chain over the telemetry):
  --signer tpm|software|none   who signs checkpoints (default software: a key file, marked so)
  --tcti <string>            TPM access, e.g. swtpm:host=127.0.0.1,port=2321 (default device:/dev/tpmrm0);
                             also signs SAS tokens when the connection string says SharedAccessKeyInTpm=true

Preview (http://127.0.0.1:8090: live frames with boxes, /metrics, /healthz, /readyz):
  --preview-port N           0 picks a free port
  --preview-host <addr>      other than loopback requires a token (printed at start)
  --preview-token <token>    at least 16 characters
  --no-preview               do not serve the preview

Output:
  --frames N               stop after N results
  --output jsonl|summary|none   one JSON object per frame on stdout, or a live summary (default)
  --config <file.json>     configuration file (flags and PERCEPT_* variables override it)
  --log-level <level>      fatal, error, warn, info (default), debug, trace, silent
  -h, --help               this help

Logs go to stderr: JSON lines, or readable text on a terminal.`;

const mib = (n: number | undefined) => (n === undefined ? undefined : n * 1024 * 1024);

export async function runCommand(argv: string[], opts: { logger?: Logger; faultInjection?: boolean; extra?: Overrides } = {}): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      source: { type: 'string', multiple: true },
      fps: { type: 'string' },
      loop: { type: 'boolean' },
      model: { type: 'string' },
      'model-path': { type: 'string' },
      'score-threshold': { type: 'string' },
      iou: { type: 'string' },
      workers: { type: 'string' },
      threads: { type: 'string' },
      providers: { type: 'string' },
      frames: { type: 'string' },
      output: { type: 'string' },
      config: { type: 'string' },
      'log-level': { type: 'string' },
      'connection-string': { type: 'string' },
      edge: { type: 'boolean' },
      ca: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      transport: { type: 'string' },
      outbox: { type: 'string' },
      'outbox-max-mb': { type: 'string' },
      'outbox-ttl': { type: 'string' },
      'when-full': { type: 'string' },
      'send-timeout': { type: 'string' },
      'token-ttl': { type: 'string' },
      'state-dir': { type: 'string' },
      'telemetry-interval': { type: 'string' },
      'telemetry-schema': { type: 'string' },
      'preview-port': { type: 'string' },
      'preview-host': { type: 'string' },
      'preview-token': { type: 'string' },
      'no-preview': { type: 'boolean' },
      signer: { type: 'string' },
      tcti: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(RUN_HELP + '\n');
    return 0;
  }
  const base = loadConfig({
    cameras: values.source?.length ? undefined : (await captureNodes()).paths,
    file: values.config,
    env: process.env,
    flags: {
      sources: values.source,
      fps: numFlag('fps', values.fps, 0.01, 240),
      loop: values.loop,
      model: values.model,
      modelPath: values['model-path'],
      scoreThreshold: numFlag('score-threshold', values['score-threshold'], 0, 1),
      iou: numFlag('iou', values.iou, 0, 1),
      workers: intFlag('workers', values.workers, 1, 16),
      threads: intFlag('threads', values.threads, 1, 64),
      providers: values.providers?.split(',').map((s) => s.trim()).filter(Boolean),
      frames: intFlag('frames', values.frames, 1, Number.MAX_SAFE_INTEGER),
      output: values.output,
      logLevel: values['log-level'],
      connectionString: values['connection-string'],
      edge: values.edge,
      ca: values.ca,
      cert: values.cert,
      key: values.key,
      transport: values.transport,
      outbox: values.outbox,
      outboxMaxBytes: mib(intFlag('outbox-max-mb', values['outbox-max-mb'], 1, 1_048_576)),
      ttlSeconds: intFlag('outbox-ttl', values['outbox-ttl'], 1, 30 * 86400),
      whenFull: values['when-full'],
      sendTimeoutMs: intFlag('send-timeout', values['send-timeout'], 500, 600_000),
      tokenTtlSeconds: intFlag('token-ttl', values['token-ttl'], 5, 365 * 86400),
      stateDir: values['state-dir'],
      telemetryInterval: intFlag('telemetry-interval', values['telemetry-interval'], 100, 3_600_000),
      telemetrySchema: values['telemetry-schema'],
      previewPort: intFlag('preview-port', values['preview-port'], 0, 65535),
      previewHost: values['preview-host'],
      previewToken: values['preview-token'],
      preview: values['no-preview'] ? false : undefined,
      signer: values.signer,
      tcti: values.tcti,
      ...opts.extra,
    },
  });
  const log = opts.logger ?? createLogger({ level: base.logLevel });
  const jsonl = base.output === 'jsonl' ? new JsonlWriter() : null;
  let summary: SummaryWriter | null = null;
  let firstSignalAt = 0;
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const onSignal = (sig: NodeJS.Signals) => {
    // A second signal forces the exit; one that arrives with the first (a process-group
    // signal delivered twice) does not.
    if (firstSignalAt && Date.now() - firstSignalAt > 1000) {
      log.warn({ signal: sig }, 'second signal: exiting now');
      process.exit(130);
    }
    if (firstSignalAt) return;
    firstSignalAt = Date.now();
    log.info({ signal: sig }, 'stopping');
    stop();
  };
  // SIGHUP: the terminal closed. Stop as cleanly as on Ctrl-C rather than die undrained.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const sig of signals) process.on(sig, onSignal);
  try {
    await runAgent(base, {
      logger: log,
      faultInjection: opts.faultInjection,
      stop: stopped,
      onResult: (r, model) => {
        jsonl?.write(r, model);
        summary?.write(r);
      },
      onStarted: (agent) => {
        if (base.output !== 'summary') return;
        summary = new SummaryWriter(() => agent.status().pipeline);
        summary.start();
      },
      onStopping: () => summary?.stop(),
    });
  } finally {
    for (const sig of signals) process.off(sig, onSignal);
  }
  return 0;
}
