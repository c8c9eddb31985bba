// Whether a text is exactly one JSON value, without building it: the verifier asks this of
// every message body, and JSON.parse would build (and then drop) the body's whole tree.

/** Without a backslash or a control character anywhere, a string ends at the next quote. */
const PLAIN = /^[^\\\x00-\x1f]*$/;
const HEX = /^[0-9a-fA-F]{4}$/;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;
const OPEN_ARRAY = 91;
const QUOTE = 34;

/** The closers still open (`}` or `]`), deepest last; grown when a text nests deeper. */
let stack = new Uint8Array(64);

/**
 * True when `s` is one compact JSON value (no whitespace between tokens) that JSON.parse
 * accepts. False when it is not, and also for valid JSON outside what this checks (whitespace
 * between tokens): a caller that needs the exact answer asks JSON.parse on false. It never
 * says true of a text JSON.parse rejects. Iterative, so deep nesting costs no stack; one loop
 * with the tokens read inline, as this runs for every message the verifier reads.
 */
export function isCompactJson(s: string): boolean {
  const plain = PLAIN.test(s);
  let depth = 0;
  let i = 0;
  for (;;) {
    // A value starts at i.
    let c = s.charCodeAt(i);
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      const close = c + 2; // `{` 123 -> `}` 125, `[` 91 -> `]` 93
      if (s.charCodeAt(i + 1) === close) i += 2;
      else {
        if (depth === stack.length) {
          const deeper = new Uint8Array(depth * 2);
          deeper.set(stack);
          stack = deeper;
        }
        stack[depth++] = close;
        i = close === CLOSE_OBJECT ? key(s, i + 1, plain) : i + 1;
        if (i < 0) return false;
        continue;
      }
    } else if (c === QUOTE) {
      i = string(s, i, plain);
      if (i < 0) return false;
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
      if (c === 45) c = s.charCodeAt(++i);
      if (c === 48) c = s.charCodeAt(++i);
      else if (c >= 49 && c <= 57)
        do c = s.charCodeAt(++i);
        while (c >= 48 && c <= 57);
      else return false;
      if (c === 46) {
        c = s.charCodeAt(++i);
        if (!(c >= 48 && c <= 57)) return false;
        do c = s.charCodeAt(++i);
        while (c >= 48 && c <= 57);
      }
      if (c === 101 || c === 69) {
        c = s.charCodeAt(++i);
        if (c === 43 || c === 45) c = s.charCodeAt(++i);
        if (!(c >= 48 && c <= 57)) return false;
        do c = s.charCodeAt(++i);
        while (c >= 48 && c <= 57);
      }
    } else if (c === 116 && s.startsWith('true', i)) i += 4;
    else if (c === 102 && s.startsWith('false', i)) i += 5;
    else if (c === 110 && s.startsWith('null', i)) i += 4;
    else return false;
    // After a value: close what ends here, then a comma leads to the next value (or key).
    for (;;) {
      if (depth === 0) return i === s.length;
      const top = stack[depth - 1];
      const d = s.charCodeAt(i);
      if (d === top) {
        depth--;
        i++;
      } else if (d === 44) {
        i = top === CLOSE_OBJECT ? key(s, i + 1, plain) : i + 1;
        if (i < 0) return false;
        break;
      } else return false;
    }
  }
}

/** A key and its colon at i: the index after the colon, or -1. */
function key(s: string, i: number, plain: boolean): number {
  if (s.charCodeAt(i) !== QUOTE) return -1;
  const end = string(s, i, plain);
  return end < 0 || s.charCodeAt(end) !== 58 ? -1 : end + 1;
}

/** The string whose opening quote is at i: the index after its closing quote, or -1. */
function string(s: string, i: number, plain: boolean): number {
  if (plain) {
    const end = s.indexOf('"', i + 1);
    return end < 0 ? -1 : end + 1;
  }
  for (i++; ; i++) {
    const c = s.charCodeAt(i);
    if (c === QUOTE) return i + 1;
    if (c === 92) {
      const e = s.charCodeAt(i + 1);
      // " \ / b f n r t
      if (e === 34 || e === 92 || e === 47 || e === 98 || e === 102 || e === 110 || e === 114 || e === 116) i++;
      else if (e === 117 && HEX.test(s.slice(i + 2, i + 6))) i += 5;
      else return -1;
    } else if (c < 32 || c !== c) return -1; // a control character, or the end (NaN)
  }
}
