// JSON parsing with a bound on nesting. JSON.parse takes any depth, but JSON.stringify and
// structuredClone overflow the stack a few thousand levels down, so a deep document sent to the
// API or by a device is refused (or kept as text) before anything recurses over it.
import { EmulatorError } from './errors.js';

/** Deepest nesting of arrays and objects accepted (IoT Hub's twins allow 10; payloads rarely pass 20). */
export const MAX_JSON_DEPTH = 64;

/** True when arrays and objects in `text` nest deeper than `max`; strings are skipped. */
export function nestsDeeper(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** Parses a request body; invalid or too deeply nested JSON is an EmulatorError('BadRequest'). */
export function parseJson(text: string, what: string): unknown {
  if (nestsDeeper(text)) {
    throw new EmulatorError('BadRequest', `${what} nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels: flatten it`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new EmulatorError('BadRequest', `${what} is not valid JSON`);
  }
}

/** A device's bytes as JSON when they parse within the bound, else as the text. */
export function jsonOrText(text: string): unknown {
  if (text.trim() === '' || nestsDeeper(text)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
