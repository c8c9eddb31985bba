// The verifier's quick check that a body is one JSON value (isCompactJson) against JSON.parse,
// which defines it: never true where JSON.parse throws, and true for every compact text
// JSON.stringify writes. Hand-made edge cases, then random values and random edits of them.
import test from 'node:test';
import assert from 'node:assert/strict';
import { isCompactJson } from '../../src/attest/compact-json.js';

function parses(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

test('edge cases: isCompactJson is true only where JSON.parse accepts, and for compact JSON', () => {
  const accepted = [
    '0',
    '-0',
    '1.5e+10',
    '-12.25E-3',
    '1E5',
    'true',
    'false',
    'null',
    '""',
    '"a\\"b\\\\c\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D"',
    '"dög 😀"',
    '{}',
    '[]',
    '[[]]',
    '{"a":{}}',
    '{"a":[1,{"b":null}],"c":"d"}',
    '[1,"x",true,null,{"":0}]',
  ];
  const rejected = [
    '',
    ' ',
    '01',
    '-',
    '1.',
    '.5',
    '1e',
    '1e+',
    '+1',
    '0x10',
    'tru',
    'nul',
    'True',
    'NaN',
    'Infinity',
    '"a',
    '"\u0001"',
    '"\\x"',
    '"\\u12g4"',
    '"\\u12"',
    '{',
    '}',
    '{"a"}',
    '{"a":}',
    '{"a":1,}',
    '{,}',
    '{a:1}',
    "{'a':1}",
    '[1,]',
    '[,1]',
    '[1 2]',
    '[1]]',
    '[1][2]',
    '1,2',
    '{"a":1}{"b":2}',
    '{"a":1},"z":2',
    '[1}',
    '{"a":1]',
    '"a"b',
    'nullx',
  ];
  for (const s of accepted) assert.equal(isCompactJson(s), true, `accepts ${JSON.stringify(s)}`);
  for (const s of rejected) {
    assert.equal(parses(s), false, `the case ${JSON.stringify(s)} is invalid JSON`);
    assert.equal(isCompactJson(s), false, `rejects ${JSON.stringify(s)}`);
  }
  // Valid JSON with whitespace between tokens is outside the quick check: false, not an error.
  for (const s of [' 1', '1 ', '{ "a":1}', '[1, 2]', '{"a" :1}']) assert.equal(isCompactJson(s), false, JSON.stringify(s));
  // Deep nesting costs no stack.
  const deep = '['.repeat(200_000) + ']'.repeat(200_000);
  assert.equal(isCompactJson(deep), true);
  assert.equal(isCompactJson(deep.slice(0, -1)), false);
});

test('random values and random edits: never true where JSON.parse throws', () => {
  let state = 0x1234567;
  const rand = (n: number): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  const strings = ['', 'a', 'dög', '😀', 'q"uote', 'back\\slash', 'nl\n', 'tab\t', '\u0000', '\ud800', 'é'];
  const value = (depth: number): unknown => {
    switch (rand(depth > 4 ? 4 : 6)) {
      case 0:
        return [0, -1, 1.5, -0.25, 1e21, 3.14159e-7, 123456789, 0.8497][rand(8)]!;
      case 1:
        return strings[rand(strings.length)]!;
      case 2:
        return [true, false, null][rand(3)]!;
      case 3:
        return rand(2);
      case 4:
        return Array.from({ length: rand(4) }, () => value(depth + 1));
      default:
        return Object.fromEntries(Array.from({ length: rand(4) }, (_, i) => [strings[rand(strings.length)]! + i, value(depth + 1)]));
    }
  };
  const pieces = [',', ':', '"', '\\', '1', '0', '-', '.', 'e', '}', '{', ']', '[', ' ', 'true', 'null', '\u0001', 'u', 'é'];
  let edited = 0;
  let acceptedEdits = 0;
  for (let n = 0; n < 20_000; n++) {
    const text = JSON.stringify(value(0));
    assert.equal(isCompactJson(text), true, `JSON.stringify's ${JSON.stringify(text)}`);
    let s = text;
    for (let e = 1 + rand(2); e > 0; e--) {
      const at = rand(s.length + 1);
      const op = rand(3);
      const piece = pieces[rand(pieces.length)]!;
      if (op === 0) s = s.slice(0, at) + piece + s.slice(at);
      else if (op === 1) s = s.slice(0, at) + s.slice(at + 1);
      else s = s.slice(0, at) + piece + s.slice(at + 1);
    }
    edited++;
    if (isCompactJson(s)) {
      acceptedEdits++;
      assert.equal(parses(s), true, `accepted ${JSON.stringify(s)}, which JSON.parse rejects`);
    }
  }
  assert.ok(acceptedEdits > 500 && acceptedEdits < edited - 500, `both verdicts are well represented (${acceptedEdits} of ${edited} edits accepted)`);
});
