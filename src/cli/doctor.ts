// `percept doctor`: resolves the state folder and key as `percept run` does, runs the checks
// of src/agent/doctor.ts and prints them (or --json), with what to do about anything missing.

import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { DEFAULT_STATE_DIR } from '../state/defaults.js';
import { checks } from '../agent/doctor.js';
import { printHelp } from './args.js';

export const DOCTOR_HELP = `Usage: percept doctor [--json] [--tcti <string>] [--state-dir <dir>] [--config <file.json>]

Checks this machine for what percept uses: Node.js, ffmpeg, cameras, onnxruntime-node and its
execution providers, sharp, the built-in models, the demo photos, the TPM, and says which
state folder and signing key \`percept run\` uses here (as run resolves them: --state-dir,
PERCEPT_STATE_DIR, the config file, else ${DEFAULT_STATE_DIR}).
Exit code 0 when everything the defaults need is there, 1 otherwise.`;

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean' },
      tcti: { type: 'string' },
      'state-dir': { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return printHelp(DOCTOR_HELP);
  // The same resolution as \`percept run\`, so doctor names the folder and key a run would use.
  const { captureNodes } = await import('../capture/cameras.js');
  const cfg = loadConfig({
    file: values.config,
    env: process.env,
    flags: { stateDir: values['state-dir'], tcti: values.tcti },
    cameras: (await captureNodes()).paths,
  });
  const keyFile = cfg.attest.keyFile ?? path.join(cfg.stateDir, 'signing-key.pem');
  const list = await checks({ tcti: cfg.attest.tcti, stateDir: cfg.stateDir, signer: cfg.attest.signer, keyFile });
  const ok = list.every((c) => c.ok || !c.required);
  if (values.json) {
    process.stdout.write(JSON.stringify({ ok, checks: list }) + '\n');
  } else {
    for (const c of list) {
      const mark = c.ok ? 'ok  ' : c.required ? 'FAIL' : 'warn';
      process.stdout.write(`${mark}  ${c.name.padEnd(22)} ${c.detail}${!c.ok && c.fix ? `\n      -> ${c.fix}` : ''}\n`);
    }
    process.stdout.write(ok ? 'percept can run here.\n' : 'percept cannot run its defaults here: see FAIL lines.\n');
  }
  return ok ? 0 : 1;
}
