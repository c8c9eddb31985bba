// Whether a text is exactly one JSON value, without building it: the verifier asks this of
// every message body, and JSON.parse would build (and then drop) the body's whole tree.

/**
 * True when `s` is one compact JSON value (no whitespace between tokens) that JSON.parse
 * accepts. False when it is not, and also for valid JSON outside what this checks (whitespace
 * between tokens): a caller that needs the exact answer asks JSON.parse on false. It never
 * says true of a text JSON.parse rejects. Iterative, so deep nesting costs no stack.
 */
export function isCompactJson(s: string): boolean {
  // Without a backslash or a control character anywhere, a string ends at the next quote,
  // which indexOf finds faster than a loop over its characters.
  const string = PLAIN.test(s) ? plainString : anyString;
  // The closers still open: `}` (125) or `]` (93).
  const open: number[] = [];
  let i = 0;
  for (;;) {
    // A value starts at i.
    const c = s.charCodeAt(i);
    if (c === 123) {
      if (s.charCodeAt(i + 1) === 125) i += 2;
      else {
        open.push(125);
        i = key(s, i + 1, string);
        if (i < 0) return false;
        continue;
      }
    } else if (c === 91) {
      if (s.charCodeAt(i + 1) === 93) i += 2;
      else {
        open.push(93);
        i++;
        continue;
      }
    } else if (c === 34) i = string(s, i);
    else if (c === 45 || (c >= 48 && c <= 57)) i = number(s, i);
    else if (c === 116) i = s.startsWith('true', i) ? i + 4 : -1;
    else if (c === 102) i = s.startsWith('false', i) ? i + 5 : -1;
    else if (c === 110) i = s.startsWith('null', i) ? i + 4 : -1;
    else return false;
    if (i < 0) return false;
    // After a value: close what ends here, then a comma leads to the next value (or key).
    for (;;) {
      const top = open[open.length - 1];
      if (top === undefined) return i === s.length;
      const d = s.charCodeAt(i);
      if (d === top) {
        open.pop();
        i++;
      } else if (d === 44) {
        i = top === 125 ? key(s, i + 1, string) : i + 1;
        if (i < 0) return false;
        break;
      } else return false;
    }
  }
}

const PLAIN = /^[^\\\x00-\x1f]*$/;

/** A key and its colon at i: the index after the colon, or -1. */
function key(s: string, i: number, string: (s: string, i: number) => number): number {
  if (s.charCodeAt(i) !== 34) return -1;
  const end = string(s, i);
  return end < 0 || s.charCodeAt(end) !== 58 ? -1 : end + 1;
}

const HEX = /^[0-9a-fA-F]{4}$/;

/** The string whose opening quote is at i, in a text with no backslash or control character. */
function plainString(s: string, i: number): number {
  const end = s.indexOf('"', i + 1);
  return end < 0 ? -1 : end + 1;
}

/** The string whose opening quote is at i: the index after its closing quote, or -1. */
function anyString(s: string, i: number): number {
  for (i++; ; i++) {
    const c = s.charCodeAt(i);
    if (c === 34) return i + 1;
    if (c === 92) {
      const e = s.charCodeAt(i + 1);
      // " \ / b f n r t
      if (e === 34 || e === 92 || e === 47 || e === 98 || e === 102 || e === 110 || e === 114 || e === 116) i++;
      else if (e === 117 && HEX.test(s.slice(i + 2, i + 6))) i += 5;
      else return -1;
    } else if (c < 32 || c !== c) return -1; // a control character, or the end (NaN)
  }
}

function digits(s: string, i: number): number {
  const start = i;
  for (let c = s.charCodeAt(i); c >= 48 && c <= 57; c = s.charCodeAt(++i));
  return i > start ? i : -1;
}

/** -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? at i: the index after it, or -1. */
function number(s: string, i: number): number {
  if (s.charCodeAt(i) === 45) i++;
  if (s.charCodeAt(i) === 48) i++;
  else if ((i = digits(s, i)) < 0) return -1;
  if (s.charCodeAt(i) === 46 && (i = digits(s, i + 1)) < 0) return -1;
  const e = s.charCodeAt(i);
  if (e === 101 || e === 69) {
    i++;
    const sign = s.charCodeAt(i);
    if (sign === 43 || sign === 45) i++;
    return digits(s, i);
  }
  return i;
}
