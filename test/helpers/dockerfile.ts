// Reads the module image's Dockerfile the way the image builder does, so tests run exactly
// what the image runs: its final stage's ENV, HEALTHCHECK command and CMD, as exec arrays.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './paths.js';

export interface FinalStage {
  /** ENV of the runtime stage (the build stage's are not in the image). */
  env: Record<string, string>;
  /** The HEALTHCHECK's CMD, exec form. */
  healthcheck: string[];
  entrypoint: string[];
  cmd: string[];
}

/** Instructions with their continuation lines joined, comments left out. */
function instructions(text: string): string[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

function execForm(json: string, what: string): string[] {
  const v: unknown = JSON.parse(json);
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`the Dockerfile's ${what} is not in exec form: ${json}`);
  return v;
}

export function finalStage(file = path.join(ROOT, 'Dockerfile')): FinalStage {
  const all = instructions(fs.readFileSync(file, 'utf8'));
  const from = all.map((l, i) => (/^FROM\s/i.test(l) ? i : -1)).filter((i) => i >= 0);
  const stage = all.slice(from[from.length - 1] ?? 0);
  const out: FinalStage = { env: {}, healthcheck: [], entrypoint: [], cmd: [] };
  for (const l of stage) {
    const [, word = '', rest = ''] = /^(\w+)\s+(.*)$/.exec(l) ?? [];
    switch (word.toUpperCase()) {
      case 'ENV':
        // KEY=value pairs (no quoting is used in this Dockerfile's ENV lines).
        for (const pair of rest.split(/\s+/)) {
          const eq = pair.indexOf('=');
          if (eq > 0) out.env[pair.slice(0, eq)] = pair.slice(eq + 1);
        }
        break;
      case 'HEALTHCHECK':
        out.healthcheck = execForm(rest.slice(rest.indexOf('CMD') + 3).trim(), 'HEALTHCHECK');
        break;
      case 'ENTRYPOINT':
        out.entrypoint = execForm(rest, 'ENTRYPOINT');
        break;
      case 'CMD':
        out.cmd = execForm(rest, 'CMD');
        break;
    }
  }
  return out;
}
