// The value types of the option table: each knows how to read itself from the text of a flag
// or an environment variable, how to describe itself, and its zod check, whose one message
// shape ("expected an integer from 1 to 16 but got 0") is the same at every edge.

import { z } from 'zod';

export interface ValueType<T> {
  /** The check; every failure reads `expected <what> but got <value>`. */
  readonly zod: z.ZodType<T>;
  /** What is expected, as the error and the reference say it: `an integer from 1 to 16`. */
  readonly what: string;
  /** Short form for tables: `integer 1..16`. */
  readonly brief: string;
  /** Text from a flag or the environment to a value; text that cannot be one is kept, so the check names it. */
  fromText(text: string): unknown;
}

/** A value as an error quotes it: numbers plain, text quoted, anything else as JSON (shortened). */
export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return `'${v.length > 60 ? `${v.slice(0, 57)}...` : v}'`;
  const s = JSON.stringify(v) ?? (typeof v === 'symbol' || typeof v === 'function' ? v.toString() : 'nothing');
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function make<T>(what: string, brief: string, ok: (v: unknown) => boolean, fromText: (t: string) => unknown): ValueType<T> {
  const zod = z.custom<T>(ok, { error: (iss) => `expected ${what} but got ${show(iss.input)}` });
  return { zod, what, brief, fromText };
}

const NUMERIC = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
const toNumber = (t: string): unknown => (NUMERIC.test(t.trim()) ? Number(t.trim()) : t);

export function int(min: number, max: number): ValueType<number> {
  return make(
    `an integer from ${min} to ${max}`,
    `integer ${min}..${max}`,
    (v) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max,
    toNumber,
  );
}

/** A number in [min, max], or in (min, max] with `above`. */
export function num(min: number, max: number, opts: { above?: boolean } = {}): ValueType<number> {
  const what = opts.above ? `a number above ${min} and at most ${max}` : `a number from ${min} to ${max}`;
  const brief = opts.above ? `number >${min}..${max}` : `number ${min}..${max}`;
  const ok = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && (opts.above ? v > min : v >= min) && v <= max;
  return make(what, brief, ok, toNumber);
}

export function text(opts: { min?: number; pattern?: RegExp; what?: string } = {}): ValueType<string> {
  const min = opts.min ?? 1;
  const what = opts.what ?? (min <= 1 ? 'a non-empty string' : `a string of at least ${min} characters`);
  const ok = (v: unknown) => typeof v === 'string' && v.length >= min && (!opts.pattern || opts.pattern.test(v));
  return make(what, opts.what ?? (min <= 1 ? 'string' : `string, ${min}+ chars`), ok, (t) => t);
}

export function oneOf<const T extends readonly string[]>(values: T): ValueType<T[number]> {
  const what = `one of ${values.join(', ')}`;
  return make(
    what,
    values.join(' | '),
    (v) => typeof v === 'string' && values.includes(v),
    (t) => t.trim(),
  );
}

const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];

export function bool(): ValueType<boolean> {
  return make(
    'true or false',
    'boolean',
    (v) => typeof v === 'boolean',
    (t) => {
      const s = t.trim().toLowerCase();
      return TRUE.includes(s) ? true : FALSE.includes(s) ? false : t;
    },
  );
}

/** A list, given as `a,b` in a flag or the environment and as an array in a file or the twin. */
export function listOf<T>(item: ValueType<T>, min: number, max: number): ValueType<T[]> {
  const what = `a list of ${min} to ${max} items, each ${item.what}`;
  const error = (iss: { input?: unknown }) => `expected ${what} but got ${show(iss.input)}`;
  // An array check, so a bad item is named by its place (providers.1).
  const zod = z.array(item.zod, { error }).min(min, { error }).max(max, { error });
  return {
    zod,
    what,
    brief: `list of ${item.brief}`,
    fromText: (t) =>
      t
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((s) => item.fromText(s)),
  };
}
