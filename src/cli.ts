#!/usr/bin/env node
// The `percept` command: the only place that wires the layers together. Each subcommand
// lives in src/cli/; errors become one readable line and an exit code.

// onnxruntime-node reports usage to Microsoft and writes to /tmp unless told not to; a
// device agent must not phone home unasked. Set before any module loads the runtime.
if (process.env.PERCEPT_ORT_TELEMETRY !== '1') process.env.ORT_DISABLE_TELEMETRY = '1';

const HELP = `Usage: percept <command> [options]

Commands:
  run       run the vision pipeline (sources -> model -> detections)
  start     run the whole loop locally: the IoT Hub emulator plus the agent on the defaults
  hub       run the local IoT Hub emulator, or manage its devices (hub device add <id>)
  bench     measure throughput and latency (npm run bench)
  doctor    check what this machine offers (ffmpeg, cameras, runtime, models, TPM)
  cameras   list the cameras with their formats, sizes, rates and controls
  verify    verify the attestation chain of received telemetry against enrolled keys
  tpm       TPM keys: enroll (print the keys a verifier needs), import-key (SAS key into the TPM)
  keys      software signing key: export (print the keys a verifier needs)
  model     model packages: pack (a zip for the twin's model.package)

Options:
  --version print the version and exit

Run 'percept <command> --help' for a command's options.`;

/**
 * The emulator is a development tool: its dependencies (an MQTT broker among them) are
 * devDependencies, absent from a device's production install. Say so instead of a stack.
 */
async function devTool<T>(what: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    const err = new Error(
      `${what} is a development tool and its dependencies are not installed here (a production install, npm ci --omit=dev, leaves them out): run it from a checkout set up with scripts/setup (${(e as Error).message.split('\n')[0]})`,
    );
    Object.assign(err, { code: 'ERR_USAGE' });
    throw err;
  }
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'run': {
      const { runCommand } = await import('./cli/run.js');
      return runCommand(rest);
    }
    case 'start': {
      const { startCommand } = await import('./cli/start.js');
      return startCommand(rest);
    }
    case 'hub': {
      const { hubCommand } = await devTool('the IoT Hub emulator', () => import('./emulator/cli.js'));
      return hubCommand(rest);
    }
    case 'doctor': {
      const { doctorCommand } = await import('./cli/doctor.js');
      return doctorCommand(rest);
    }
    case 'cameras':
      return (await import('./cli/cameras.js')).camerasCommand(rest);
    case 'bench': {
      const { benchCommand } = await import('./cli/bench.js');
      return benchCommand(rest);
    }
    case 'verify': {
      const { verifyCommand } = await import('./cli/verify.js');
      return verifyCommand(rest);
    }
    case 'keys': {
      const { keysCommand } = await import('./cli/keys.js');
      return keysCommand(rest);
    }
    case 'model': {
      const { modelCommand } = await import('./cli/model.js');
      return modelCommand(rest);
    }
    case 'tpm': {
      const { tpmCommand } = await import('./cli/tpm.js');
      return tpmCommand(rest);
    }
    case '--version':
    case '-v': {
      const { VERSION } = await import('./version.js');
      process.stdout.write(VERSION + '\n');
      return 0;
    }
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(HELP + '\n');
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`percept: unknown command '${cmd}'\n\n${HELP}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as { code?: string; message?: string };
    const usage =
      e.code === 'ERR_USAGE' ||
      e.code === 'ERR_CONFIG' ||
      e.code === 'ERR_STATE_LOCKED' ||
      e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
      e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ||
      e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL';
    process.stderr.write(`percept: ${e.code ? `[${e.code}] ` : ''}${e.message ?? String(err)}\n`);
    process.exitCode = usage ? 2 : 1;
  },
);
