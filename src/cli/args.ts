// Command-line parsing: `percept run`'s flags from the option table (unknown flags answered
// with the closest known one), and typed number flags of the other commands, all in the one
// error shape of the configuration (`seconds: expected ... but got 'x' (from --seconds)`).

import { parseArgs } from 'node:util';
import { PerceptError } from '../errors.js';
import { OPTION_LIST, COMMAND_FLAGS } from '../config/options.js';
import { allFlags, closest, fromText, type Overrides } from '../config/derive.js';
import { int, num, type ValueType } from '../config/value.js';

function typed<T>(name: string, v: string | undefined, type: ValueType<T>): T | undefined {
  if (v === undefined) return undefined;
  const value = type.fromText(v);
  const r = type.zod.safeParse(value);
  if (!r.success) throw new PerceptError('ERR_CONFIG', `${name}: ${r.error.issues[0]?.message ?? `expected ${type.what}`} (from --${name})`);
  return r.data;
}

export function intFlag(name: string, v: string | undefined, min: number, max: number): number | undefined {
  return typed(name, v, int(min, max));
}

export function numFlag(name: string, v: string | undefined, min: number, max: number): number | undefined {
  return typed(name, v, num(min, max));
}

/** Throws ERR_USAGE for a flag no row declares, naming the closest one. */
function checkFlags(argv: string[], known: string[], takesValue: Set<string>): void {
  let value = false; // the argument is the value of the flag before it
  for (const arg of argv) {
    if (value) {
      value = false;
      continue;
    }
    if (arg === '--') return;
    if (!arg.startsWith('--')) continue;
    const name = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    if (!known.includes(name)) {
      const near = closest(name, known);
      throw new PerceptError('ERR_USAGE', `unknown option ${name}${near ? `; did you mean ${near}?` : ''} (percept run --help lists the options)`);
    }
    value = takesValue.has(name) && !arg.includes('=');
  }
}

export interface RunArgs {
  help: boolean;
  config?: string;
  flags: Overrides;
}

/** `percept run`'s arguments: each flag's text read as its row's type; validation is loadConfig's. */
export function parseRunArgs(argv: string[]): RunArgs {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  const takesValue = new Set<string>();
  for (const o of OPTION_LIST) {
    for (const f of [o.flag, ...(o.aliases ?? [])]) {
      options[f.slice(2)] = { type: o.arg ? 'string' : 'boolean', ...(o.repeat ? { multiple: true } : {}) };
      if (o.arg) takesValue.add(f);
    }
  }
  for (const c of COMMAND_FLAGS) {
    options[c.flag.slice(2)] = { type: 'arg' in c ? 'string' : 'boolean', ...('short' in c ? { short: c.short.slice(1) } : {}) };
    if ('arg' in c) takesValue.add(c.flag);
  }
  checkFlags(argv, allFlags(), takesValue);
  const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  const flags: Overrides = {};
  for (const o of OPTION_LIST) {
    for (const f of [o.flag, ...(o.aliases ?? [])]) {
      const v = values[f.slice(2)];
      if (v === undefined) continue;
      if (typeof v === 'boolean') flags[o.name] = !o.negate;
      // --source keeps each spec whole (a path may hold a comma); other repeated flags may list a,b.
      else if (Array.isArray(v)) flags[o.name] = o.custom ? v : v.flatMap((t) => fromText(o, String(t)) as unknown[]);
      else flags[o.name] = fromText(o, v);
    }
  }
  return { help: values.help === true, config: typeof values.config === 'string' ? values.config : undefined, flags };
}

/** Prints a command's help on stdout; returns the exit status, 0. */
export function printHelp(text: string): number {
  process.stdout.write(text + '\n');
  return 0;
}

/**
 * A command of subcommands given none (exit status 2) or asked for help (0) prints its help and
 * returns the status; one it does not know is ERR_USAGE; a known one returns null: go on.
 */
export function subcommandHelp(command: string, sub: string | undefined, known: readonly string[], text: string): number | null {
  if (sub === undefined || ['--help', '-h', 'help'].includes(sub)) {
    printHelp(text);
    return sub === undefined ? 2 : 0;
  }
  if (known.includes(sub)) return null;
  throw new PerceptError('ERR_USAGE', `unknown subcommand '${command} ${sub}'; known: ${known.join(', ')} (percept ${command} --help)`);
}
