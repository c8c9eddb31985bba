#!/usr/bin/env node
// Stand-alone entry for the emulator (`node dist/src/emulator/main.js …`), the same as
// `percept hub …` without loading the agent.
import { hubCommand } from './cli.js';

hubCommand(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`percept hub: ${(err as Error).message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
