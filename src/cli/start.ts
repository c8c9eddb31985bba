// `percept start` (npm start): the whole loop on its embedded defaults.

import { runCommand } from './run.js';

export async function startCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`Usage: percept start [run options]

Runs the agent on its defaults (the first webcam, else the demo source; the blazeface-back
model) with a live summary. Options are those of 'percept run'.\n`);
    return 0;
  }
  return runCommand(argv);
}
