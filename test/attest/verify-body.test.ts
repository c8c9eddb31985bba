// The record's readable `body` against its `bodyBase64`, as the reader checks it on every
// line: a fast path for the emulator's own layout and a general one for anything else must
// together say exactly what JSON.parse of the line says. The oracle here is that definition
// itself (the line's parsed body printed against the parse of the body bytes printed),
// applied to hand-made tricks and to thousands of random edits of real records.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { JsonlMessageSource } from '../../src/attest/messages.js';
import { tempDir } from '../helpers/paths.js';
import { at as itemAt } from '../helpers/at.js';

/** Whether the line's body is not what its bytes read as (the verifier's body-mismatch). */
function oracle(line: string): boolean {
  const o = JSON.parse(line.endsWith('\r') ? line.slice(0, -1) : line) as { body?: unknown; bodyBase64: string };
  if (o.body === undefined) return false;
  const text = Buffer.from(o.bodyBase64, 'base64').toString('utf8');
  let readable: unknown = text;
  if (text.trim() !== '') {
    try {
      readable = JSON.parse(text);
    } catch {
      readable = text;
    }
  }
  return JSON.stringify(o.body) !== JSON.stringify(readable);
}

async function verdicts(lines: string[]): Promise<boolean[]> {
  const file = path.join(tempDir('percept-body-'), 'messages.jsonl');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const out: boolean[] = [];
  for await (const m of new JsonlMessageSource(file).messages()) out.push(m.bodyMismatch !== undefined);
  assert.equal(out.length, lines.length, 'one message a line');
  return out;
}

/** What the emulator stores as `body` for these bytes, printed. */
function stored(bytes: string): string {
  try {
    return JSON.stringify(JSON.parse(bytes));
  } catch {
    return JSON.stringify(bytes);
  }
}

const HEAD = '{"seq":1,"deviceId":"dev-1","moduleId":null,"messageId":"b:1","properties":{"percept-boot":"b"}';
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
/** A record as the emulator writes it: `"body":<bytes' parse>,"bodyBase64":"<bytes>"}`. */
const emulator = (bytes: string): string => `${HEAD},"body":${JSON.stringify(JSON.parse(bytes))},"bodyBase64":"${b64(bytes)}"}`;

test("tricks that would fool a check of the line's text alone are body mismatches exactly when JSON.parse says so", async () => {
  const genuine = '{"counts":{"dog":1},"label":"dög"}';
  const lines = [
    emulator(genuine),
    // the readable copy altered
    `${HEAD},"body":{"counts":{"dog":9},"label":"dög"},"bodyBase64":"${b64(genuine)}"}`,
    // bytes that are not one JSON value but whose text, put in the body's place, parses
    `${HEAD},"body":1,"z":2,"bodyBase64":"${b64('1,"z":2')}"}`,
    `${HEAD},"body":"1,\\"z\\":2","bodyBase64":"${b64('1,"z":2')}"}`,
    // the genuine text nested in another key, an altered body at the top
    `${HEAD},"body":{"counts":{"dog":9}},"x":{"body":${genuine},"bodyBase64":"${b64(genuine)}"},"bodyBase64":"${b64(genuine)}"}`,
    // an altered body after the genuine one (the last key wins)
    `${HEAD},"body":${genuine},"bodyBase64":"${b64(genuine)}","body":{"counts":{"dog":9}}}`,
    // an altered body before the genuine one
    `${HEAD},"body":{"counts":{"dog":9}},"body":${genuine},"bodyBase64":"${b64(genuine)}"}`,
    // the text inside a string
    `${HEAD},"note":"\\"body\\":${genuine.replace(/"/g, '\\"')},","body":{"counts":{"dog":9}},"bodyBase64":"${b64(genuine)}"}`,
    // the genuine text under a key ending in an escaped quote (`x"body`), so no body at all
    `${HEAD},"x\\"body":${genuine},"bodyBase64":"${b64(genuine)}"}`,
    `${HEAD},"body":{"counts":{"dog":9}},"x\\"body":${genuine},"bodyBase64":"${b64(genuine)}"}`,
    // bytes that are pretty-printed, escaped or blank, stored as the emulator stores them
    emulator('{ "counts" : { "dog" : 1 } }'),
    emulator('{"label":"d\\u00f6g"}'),
    `${HEAD},"body":"  ","bodyBase64":"${b64('  ')}"}`,
    `${HEAD},"body":"plain text","bodyBase64":"${b64('plain text')}"}`,
    `${HEAD},"body":{"plain":"text"},"bodyBase64":"${b64('plain text')}"}`,
    // escapes in bodyBase64's text, whitespace around the keys, a CR line end
    `${HEAD},"body":${genuine},"bodyBase64":"${b64(genuine).replace(/\//g, '\\/')}"}`,
    `${HEAD}, "body" : ${genuine} , "bodyBase64" : "${b64(genuine)}" }`,
    `${emulator(genuine)}\r`,
    // no readable copy at all
    `${HEAD},"bodyBase64":"${b64(genuine)}"}`,
  ];
  const expected = lines.map(oracle);
  assert.deepEqual(
    expected
      .map((x, i) => [i, x])
      .filter(([, x]) => x)
      .map(([i]) => i),
    [1, 2, 4, 5, 7, 9, 14],
    'the oracle itself',
  );
  assert.deepEqual(await verdicts(lines), expected);
});

test('random edits of real records: the body is a mismatch exactly when JSON.parse of the line says so', async () => {
  let state = 0x2545f491;
  const rand = (n: number): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  const bodies = [
    '{"counts":{"dog":1},"frames":[{"seq":1,"box":[1.5,2,3]}]}',
    '{"a":"é😀","b":null,"c":[true,false]}',
    '[1,2,3]',
    '"text"',
    '42',
    'not json',
    '{"x":1}',
    '1,"z":2',
    '{"a":1},{"b":2}',
  ];
  const pieces = [',', ':', '"', '1', '}', '{', ']', '[', ' ', '\\', '"body":', ',"body":{"x":1}', ',"bodyBase64":"', '"x":', 'é'];
  const lines: string[] = [];
  while (lines.length < 3000) {
    const bytes = itemAt(bodies, rand(bodies.length));
    // Mostly as the emulator stores it; sometimes the bytes' raw text in the body's place.
    const readable = rand(4) === 0 ? bytes : stored(bytes);
    let line = `${HEAD},"body":${readable},"bodyBase64":"${b64(bytes)}"}`;
    // One to three edits: insert, delete or replace a piece somewhere, most near the end.
    for (let e = 1 + rand(3); e > 0; e--) {
      const at = rand(4) === 0 ? rand(line.length) : line.length - 1 - rand(Math.min(line.length, 200));
      const op = rand(3);
      const piece = itemAt(pieces, rand(pieces.length));
      if (op === 0) line = line.slice(0, at) + piece + line.slice(at);
      else if (op === 1) line = line.slice(0, at) + line.slice(at + 1 + rand(3));
      else line = line.slice(0, at) + piece + line.slice(at + piece.length);
    }
    // Only records the reader accepts: a JSON object with a deviceId and a string bodyBase64.
    try {
      const o = JSON.parse(line) as Record<string, unknown>;
      if (typeof o !== 'object' || o === null || Array.isArray(o) || o.deviceId !== 'dev-1' || typeof o.bodyBase64 !== 'string') continue;
      const props = o.properties ?? {};
      if (typeof props !== 'object' || props === null || Array.isArray(props) || Object.values(props).some((v) => typeof v !== 'string')) continue;
      if (o.moduleId !== undefined && o.moduleId !== null && typeof o.moduleId !== 'string') continue;
      if (o.messageId !== undefined && o.messageId !== null && typeof o.messageId !== 'string') continue;
    } catch {
      continue;
    }
    lines.push(line);
  }
  const expected = lines.map(oracle);
  assert.ok(expected.filter((x) => x).length > 100 && expected.filter((x) => !x).length > 100, 'both verdicts are well represented');
  const got = await verdicts(lines);
  const wrong = lines.filter((_, i) => got[i] !== expected[i]);
  assert.deepEqual(wrong, [], 'lines judged unlike JSON.parse');
});

test('bodyBase64 with characters a JSON string cannot hold raw is not JSON (ERR_INPUT); odd but legal base64 is judged as JSON.parse judges it', async () => {
  const genuine = '{"counts":{"dog":1},"label":"dög"}';
  const b = b64(genuine);
  // Control characters in place of a base64 character, or four more of them (the decoder skips
  // them, so the bytes, and the body's text, are the genuine ones; the length stays a multiple of 4).
  for (const bad of ['\u0001', '\t', '\u001f'])
    for (const line of [
      `${HEAD},"body":${genuine},"bodyBase64":"${b.slice(0, 8)}${bad}${b.slice(9)}"}`,
      `${HEAD},"body":${genuine},"bodyBase64":"${b.slice(0, 8)}${bad.repeat(4)}${b.slice(8)}"}`,
    ]) {
      assert.throws(() => JSON.parse(line), SyntaxError, 'the line is not JSON');
      const file = path.join(tempDir('percept-body-'), 'messages.jsonl');
      fs.writeFileSync(file, line + '\n');
      await assert.rejects(
        async () => {
          for await (const m of new JsonlMessageSource(file).messages()) void m;
        },
        (e: Error & { code?: string }) => e.code === 'ERR_INPUT' && /not a JSON object/.test(e.message),
      );
    }
  // Unpadded, url-safe, with a space: legal JSON, decoded leniently; the verdict is the oracle's.
  const lines = [
    `${HEAD},"body":${genuine},"bodyBase64":"${b.replace(/=+$/, '')}"}`,
    `${HEAD},"body":${genuine},"bodyBase64":"${b.replace(/\+/g, '-').replace(/\//g, '_')}"}`,
    `${HEAD},"body":${genuine},"bodyBase64":"${b.slice(0, 8)} ${b.slice(9)}"}`,
    `${HEAD},"body":${genuine},"bodyBase64":"${b.slice(0, 8)}=${b.slice(9)}"}`,
  ];
  assert.deepEqual(await verdicts(lines), lines.map(oracle));
});
