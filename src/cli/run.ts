// `percept run`: parses the options (declared in src/config/options.ts) into a configuration,
// runs the agent (src/agent/run.ts) until a signal stops it (src/agent/signals.ts), and prints
// its results as JSON lines (per frame or per track event) or a live summary.

import { loadConfig, type Overrides } from '../config/load.js';
import { captureNodes } from '../capture/cameras.js';
import { unknownEnv } from '../config/derive.js';
import { runHelpOptions } from '../config/reference.js';
import { createLogger, type Logger } from '../log.js';
import { runAgent } from '../agent/run.js';
import { stopOnSignals } from '../agent/signals.js';
import { JsonlWriter, SummaryWriter, writeEvent } from './output.js';
import { parseRunArgs, printHelp } from './args.js';

export const RUN_HELP = `Usage: percept run [options]

Runs the vision pipeline: frames from the sources, detections from the model.

${runHelpOptions()}

Every option is also a PERCEPT_* environment variable and a config file key
(docs/configuration.md lists them). Logs go to stderr: JSON lines, or readable text on a terminal.`;

export async function runCommand(argv: string[], opts: { logger?: Logger; faultInjection?: boolean; extra?: Overrides } = {}): Promise<number> {
  const args = parseRunArgs(argv);
  if (args.help) return printHelp(RUN_HELP);
  const flags: Overrides = { ...args.flags, ...opts.extra };
  // Without --source, the first camera the V4L2 addon finds is the default source.
  const cameras = (flags.sources as string[] | undefined)?.length ? undefined : (await captureNodes()).paths;
  const base = loadConfig({ file: args.config ?? (process.env.PERCEPT_CONFIG || undefined), env: process.env, flags, cameras });
  const log = opts.logger ?? createLogger({ level: base.logLevel });
  for (const u of unknownEnv(process.env)) {
    log.warn({ variable: u.name, closest: u.closest }, `unknown environment variable ${u.name} is ignored${u.closest ? `; did you mean ${u.closest}?` : ''}`);
  }
  const jsonl = base.output === 'jsonl' ? new JsonlWriter() : null;
  let summary: SummaryWriter | null = null;
  const signals = stopOnSignals(log);
  try {
    await runAgent(base, {
      logger: log,
      faultInjection: opts.faultInjection,
      stop: signals.stopped,
      onResult: (r, model) => {
        jsonl?.write(r, model);
        summary?.write(r);
      },
      onEvent: base.output === 'events' ? writeEvent : undefined,
      onStarted: (agent) => {
        if (base.output !== 'summary') return;
        summary = new SummaryWriter(() => agent.status().pipeline);
        summary.start();
      },
      onStopping: () => summary?.stop(),
    });
  } finally {
    signals.dispose();
  }
  return 0;
}
