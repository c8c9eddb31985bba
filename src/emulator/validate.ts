// Validation at the service API's edge: every bad field gets the same message shape,
// "Expected <what> for <field> but received <value>", as an EmulatorError('BadRequest').
import { EmulatorError } from './errors.js';

function show(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 80 ? text.slice(0, 77) + '...' : text;
}

export function fail(what: string, field: string, value: unknown): never {
  throw new EmulatorError('BadRequest', `Expected ${what} for ${field} but received ${show(value)}`);
}

export function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('a JSON object', field, value);
  return value as Record<string, unknown>;
}

export function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') fail('a string', field, value);
  return value;
}

export function optionalBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') fail('true or false', field, value);
  return value;
}

export function optionalInteger(value: unknown, field: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`an integer between ${min} and ${max}`, field, value);
  }
  return value;
}

export function stringRecord(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  const obj = object(value, field);
  for (const [k, v] of Object.entries(obj)) if (typeof v !== 'string') fail('a string', `${field}.${k}`, v);
  return obj as Record<string, string>;
}

/** Rejects fields the route does not know, so typos do not pass silently. */
export function onlyKeys(obj: Record<string, unknown>, allowed: readonly string[], field: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) fail(`one of ${allowed.join(', ')}`, `a key of ${field}`, k);
  }
}
