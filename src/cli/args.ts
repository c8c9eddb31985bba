// Small helpers for command-line parsing: typed number flags with one error shape, and help.

import { PerceptError } from '../errors.js';

export function intFlag(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new PerceptError('ERR_USAGE', `Expected integer between ${min} and ${max} for --${name} but received '${v}'`);
  }
  return n;
}

export function numFlag(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new PerceptError('ERR_USAGE', `Expected number between ${min} and ${max} for --${name} but received '${v}'`);
  }
  return n;
}
