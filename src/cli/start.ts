// `percept start` (npm start): the whole loop with no cloud. Starts the local IoT Hub
// emulator as a child process, registers a device, runs the agent against it on the default
// source and model, and prints each message the emulator receives under the live summary.

import path from 'node:path';
import type http from 'node:http';
import { parseArgs } from 'node:util';
import { runCommand } from './run.js';
import { statusLine } from '../log.js';
import { DEFAULT_DEVICE_ID, DEFAULT_HUB_STATE_DIR, DEFAULT_STATE_DIR } from '../state/defaults.js';
import { followMessages, registerDevice, startLocalHub } from '../emulator/local.js';
import { printHelp } from './args.js';

export const START_HELP = `Usage: percept start [--state <dir>] [--device <id>] [run options]

Runs the whole loop locally, with no cloud: starts the IoT Hub emulator (state in --state,
default ${DEFAULT_HUB_STATE_DIR} as for 'percept hub'; MQTT on 127.0.0.1:8883 and its API on
:8884, or free ports when those are busy), registers the device (default ${DEFAULT_DEVICE_ID}),
and runs the agent against it on the defaults (the first webcam, else the demo;
blazeface-back; its own state in --state-dir, default ${DEFAULT_STATE_DIR}). Every message
the emulator receives is printed as it arrives. Other options are those of 'percept run'.`;

export async function startCommand(argv: string[]): Promise<number> {
  const { values, tokens } = parseArgs({
    args: argv,
    options: { state: { type: 'string' }, device: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: false,
    tokens: true,
  });
  if (values.help) return printHelp(START_HELP);
  // Everything that is not ours goes to `run`.
  const own = new Set(['state', 'device']);
  const rest: string[] = [];
  for (const t of tokens ?? []) {
    if (t.kind === 'option' && own.has(t.name)) continue;
    if (t.kind === 'option') rest.push(t.rawName, ...(t.value !== undefined ? [t.value] : []));
    else if (t.kind === 'positional') rest.push(t.value);
  }
  const stateDir = path.resolve(String(values.state ?? DEFAULT_HUB_STATE_DIR));
  const deviceId = String(values.device ?? DEFAULT_DEVICE_ID);
  const hub = await startLocalHub(stateDir);
  let follow: http.ClientRequest | null = null;
  try {
    const cs = await registerDevice(hub.api, deviceId);
    process.stderr.write(
      `percept: local IoT Hub emulator on mqtts://localhost:${hub.mqtt} (API http://127.0.0.1:${hub.api}, state ${stateDir}); device ${deviceId}\n`,
    );
    follow = followMessages(hub.api, deviceId, (text) => statusLine.around(() => process.stdout.write(`${text}\n`)));
    // `run` handles the signals (SIGHUP included) itself: it drains to the emulator, then the
    // `finally` below stops the emulator.
    return await runCommand(rest, { extra: { connectionString: cs, ca: path.join(stateDir, 'ca.pem') } });
  } finally {
    follow?.destroy();
    hub.stop();
  }
}
