// `percept run`: the agent's main job. Reads configuration, starts the pipeline, writes
// results, and shuts down cleanly on SIGINT/SIGTERM or after --frames results.

import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { createLogger, type Logger } from '../log.js';
import { Pipeline } from '../pipeline/pipeline.js';
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
  --workers N              inference worker threads (default 2)
  --threads N              intra-op threads per worker (default 1)
  --providers a,b          execution providers in order, e.g. openvino,cpu (default cpu)

Output:
  --frames N               stop after N results
  --output jsonl|summary|none   one JSON object per frame on stdout, or a live summary (default)
  --config <file.json>     configuration file (flags and PERCEPT_* variables override it)
  --log-level <level>      fatal, error, warn, info (default), debug, trace, silent
  -h, --help               this help

Logs go to stderr: JSON lines, or readable text on a terminal.`;

export async function runCommand(argv: string[], opts: { logger?: Logger; faultInjection?: boolean } = {}): Promise<number> {
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
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(RUN_HELP + '\n');
    return 0;
  }
  const cfg = loadConfig({
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
    },
  });
  const log = opts.logger ?? createLogger({ level: cfg.logLevel });
  const pipeline = new Pipeline(cfg, { logger: log, faultInjection: opts.faultInjection });
  const jsonl = cfg.output === 'jsonl' ? new JsonlWriter() : null;
  const summary = cfg.output === 'summary' ? new SummaryWriter(() => pipeline.status()) : null;
  pipeline.on('result', (r, model) => {
    jsonl?.write(r, model);
    summary?.write(r);
  });

  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.warn({ signal: sig }, 'second signal: exiting now');
      process.exit(130);
    }
    log.info({ signal: sig }, 'stopping');
    void pipeline.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const ended = new Promise<void>((resolve) => pipeline.once('end', resolve));
  try {
    await pipeline.start();
    summary?.start();
    await Promise.race([ended, new Promise<void>((resolve) => pipeline.signal.addEventListener('abort', () => resolve(), { once: true }))]);
    await pipeline.stop();
  } finally {
    summary?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const s = pipeline.status();
  log.info({ inferred: s.frames.inferred, failed: s.frames.failed, corrupt: s.frames.corrupt, provider: s.models[0]?.provider }, 'stopped');
  return 0;
}
