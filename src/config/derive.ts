// What the option table gives the rest of config/: the config file's scalar schema (and its
// type), the values of flags and environment variables, the twin's scalar schema, and the
// closest known name for a misspelt flag, variable or key.

import { z } from 'zod';
import { OPTIONS, OPTION_LIST, COMMAND_FLAGS, OTHER_ENV, type Option, type OptionName } from './options.js';

type Table = typeof OPTIONS;
type ValueOf<N extends OptionName> = Table[N]['type'] extends { zod: z.ZodType<infer T> } ? T : never;
/** Rows set at their key as is (the others are applied by load.ts's own mapping). */
type Plain = { [N in OptionName]: Table[N] extends { custom: true } ? never : N }[OptionName];
type Defaulted = { [N in OptionName]: Table[N] extends { default: unknown } ? N : never }[OptionName];
type KeyOf<N extends OptionName> = Table[N]['key'];
type Top = { [N in Plain]: KeyOf<N> extends `${string}.${string}` ? never : N }[Plain];
type In<S extends string> = { [N in Plain]: KeyOf<N> extends `${S}.${string}` ? N : never }[Plain];
type Leaf<N extends OptionName, S extends string> = KeyOf<N> extends `${S}.${infer R}` ? R : never;
type Level<Ns extends OptionName, S extends string> = { [N in Ns & Defaulted as S extends '' ? KeyOf<N> : Leaf<N, S>]: ValueOf<N> } & {
  [N in Exclude<Ns, Defaulted> as S extends '' ? KeyOf<N> : Leaf<N, S>]?: ValueOf<N>;
};
type Flat<T> = { [K in keyof T]: T[K] } & {};

/** Sections of the file: `hub` is there only when given (no hub, no connection); the others always. */
export const SECTIONS = {
  hub: 'optional',
  telemetry: 'always',
  preview: 'always',
  attest: 'always',
  motion: 'always',
  tracker: 'always',
  events: 'always',
} as const;
type Sections = typeof SECTIONS;

/** The scalar part of the configuration, as the table declares it. */
export type ScalarConfig = Flat<
  Level<Top, ''> & { [S in keyof Sections as Sections[S] extends 'always' ? S : never]: Flat<Level<In<S & string>, S & string>> } & {
    [S in keyof Sections as Sections[S] extends 'optional' ? S : never]?: Flat<Level<In<S & string>, S & string>>;
  }
>;

const plain = (o: Option) => !('custom' in o && o.custom);

function withDefault(o: Option): z.ZodType {
  if (!('default' in o) || o.default === undefined) return o.type.zod.optional();
  const d = o.default;
  // A fresh array each time: a default is never shared between two configurations.
  return o.type.zod.default(typeof d === 'function' ? d : Array.isArray(d) ? () => [...(d as unknown[])] : d);
}

/** The zod shape of every plain row, nested by section, for the config file schema. */
export function scalarShape(): Record<string, z.ZodType> {
  const top: Record<string, z.ZodType> = {};
  const sections: Record<string, Record<string, z.ZodType>> = {};
  for (const o of OPTION_LIST.filter(plain)) {
    const [head = '', ...rest] = o.key.split('.');
    if (rest.length === 0) top[head] = withDefault(o);
    else (sections[head] ??= {})[rest.join('.')] = withDefault(o);
  }
  for (const [s, shape] of Object.entries(sections)) {
    const obj = z.strictObject(shape);
    top[s] = SECTIONS[s as keyof Sections] === 'optional' ? obj.optional() : obj.prefault({});
  }
  return top;
}

/** The twin's scalar keys (nested by their dotted desired key), each optional. */
export function twinShape(): Record<string, z.ZodType> {
  const top: Record<string, z.ZodType> = {};
  const sections: Record<string, Record<string, z.ZodType>> = {};
  for (const o of OPTION_LIST) {
    for (const k of o.twin ?? []) {
      const [head = '', ...rest] = k.split('.');
      if (rest.length === 0) top[head] = o.type.zod.optional();
      else (sections[head] ??= {})[rest.join('.')] = o.type.zod.optional();
    }
  }
  for (const [s, shape] of Object.entries(sections)) top[s] = z.strictObject(shape).optional();
  return top;
}

export function getPath(obj: unknown, key: string): unknown {
  let v: unknown = obj;
  for (const part of key.split('.')) v = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}

/** Sets a dotted key, copying each object on the way so no shared object changes. */
export function setPath(obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  const last = parts.pop() ?? key;
  let at = obj;
  for (const part of parts) {
    const cur = at[part];
    at = at[part] = cur && typeof cur === 'object' && !Array.isArray(cur) ? { ...(cur as Record<string, unknown>) } : {};
  }
  at[last] = value;
}

/** A row's value from the text of its flag or variable (a unit applied when the text is a number). */
export function fromText(o: Option, t: string): unknown {
  const v = o.type.fromText(t);
  return 'unit' in o && o.unit && typeof v === 'number' ? Math.round(v * o.unit.factor) : v;
}

/** Flags values by row name: what `PERCEPT_*` sets. Empty variables count as unset. */
export type Overrides = Partial<Record<OptionName, unknown>>;

export function envOverrides(env: NodeJS.ProcessEnv): Overrides {
  const out: Overrides = {};
  for (const o of OPTION_LIST) {
    const t = env[o.env];
    if (t !== undefined && t.trim() !== '') out[o.name] = fromText(o, t);
  }
  // Under IoT Edge the runtime gives the module its identity; no variable of ours is needed.
  if (out.edge === undefined && env.IOTEDGE_WORKLOADURI !== undefined && env.IOTEDGE_MODULEID !== undefined && !env.PERCEPT_CONNECTION_STRING) out.edge = true;
  return out;
}

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
export function levenshtein(a: string, b: string): number {
  // prev and cur hold b.length + 1 entries; `?? 0` never applies.
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** The closest candidate, if it is close enough to be a slip (at most a third of the name differs). */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = levenshtein(name.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Every flag `percept run` takes, aliases included. */
export function allFlags(): string[] {
  return [...OPTION_LIST.flatMap((o) => [o.flag, ...(o.aliases ?? [])]), ...COMMAND_FLAGS.map((c) => c.flag)];
}

/** `PERCEPT_*` variables no row and no other part of percept reads, each with the closest known name. */
export function unknownEnv(env: NodeJS.ProcessEnv): Array<{ name: string; closest?: string }> {
  const known = [...OPTION_LIST.map((o) => o.env), ...OTHER_ENV];
  return Object.keys(env)
    .filter((k) => k.startsWith('PERCEPT_') && !k.startsWith('PERCEPT_TEST_') && !known.includes(k))
    .sort()
    .map((name) => ({ name, closest: closest(name, known) }));
}

/** The rows as load.ts applies them, by name. */
export function optionByName(name: string): Option | undefined {
  return OPTION_LIST.find((o) => o.name === name);
}
