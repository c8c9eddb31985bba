// Argument checks of the TPM layer, all failing the same way ("Expected <what> for <name>
// but received <value>") before anything reaches native code or the TPM.
import { TpmError } from './tpm-error.js';
import { BANKS, PERSISTENT_FIRST, PERSISTENT_LAST, PROJECT_FIRST, PROJECT_LAST, hex, type PcrBank } from './handles.js';

function describe(value: unknown): string {
  if (Buffer.isBuffer(value)) return `a Buffer of ${value.length} bytes`;
  if (typeof value === 'number') return Number.isInteger(value) && value > 0xffff ? hex(value) : String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return value === null ? 'null' : typeof value;
}

export function invalid(what: string, name: string, value: unknown): TpmError {
  return new TpmError('argument', `Expected ${what} for ${name} but received ${describe(value)}`);
}

export function integer(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`integer between ${min} and ${max}`, name, value);
  }
  return value;
}

export function bytes(name: string, value: unknown, min: number, max: number): Buffer {
  if (!Buffer.isBuffer(value) || value.length < min || value.length > max) {
    const what = min === max ? `Buffer of ${min} bytes` : `Buffer of ${min} to ${max} bytes`;
    throw invalid(what, name, value);
  }
  return value;
}

export function persistentHandle(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < PERSISTENT_FIRST || value > PERSISTENT_LAST) {
    throw invalid(`persistent handle (${hex(PERSISTENT_FIRST)}-${hex(PERSISTENT_LAST)})`, name, value);
  }
  return value;
}

/** Handles percept may create, replace or evict: its own range only. */
export function projectHandle(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < PROJECT_FIRST || value > PROJECT_LAST) {
    throw invalid(`percept persistent handle (${hex(PROJECT_FIRST)}-${hex(PROJECT_LAST)})`, name, value);
  }
  return value;
}

export function bank(value: unknown): PcrBank {
  if (typeof value !== 'string' || !(value in BANKS)) {
    throw invalid(`one of ${Object.keys(BANKS).join(', ')}`, 'bank', value);
  }
  return value as PcrBank;
}

/** PCR indices 0-23, sorted and unique so results line up with what the TPM signs. */
export function pcrList(value: unknown): number[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid('non-empty array of PCR indices', 'pcrs', value);
  for (const p of value) integer('pcrs[]', p, 0, 23);
  return [...new Set(value as number[])].sort((a, b) => a - b);
}
