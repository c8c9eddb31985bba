// The reader of messages.jsonl splits lines on bytes and decodes a chunk's complete lines at
// once: characters of several bytes that straddle its 1 MB reads, blank and CRLF lines and a
// last line without a newline all come out as a whole-file decode and split would give them.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { JsonlMessageSource, type ReceivedMessage } from '../../src/attest/messages.js';
import { tempDir } from '../helpers/paths.js';
import { at } from '../helpers/at.js';

const CHUNK = 1 << 20;

function record(n: number, note: string): string {
  const body = Buffer.from(JSON.stringify({ n }));
  return JSON.stringify({ deviceId: 'dev-1', moduleId: null, messageId: `b:${n}`, properties: { note }, body: { n }, bodyBase64: body.toString('base64') });
}

test('lines come out whole across the 1 MB reads, multi-byte characters included', async () => {
  // Records padded so that a 2-, 3- and 4-byte character each straddles a read boundary.
  const parts: string[] = [];
  let bytes = 0;
  let n = 0;
  const push = (line: string, end = '\n'): void => {
    parts.push(line + end);
    bytes += Buffer.byteLength(line + end);
  };
  for (const [boundary, ch] of [
    [CHUNK, 'é'],
    [2 * CHUNK, '€'],
    [3 * CHUNK, '😀'],
  ] as const) {
    while (bytes < boundary - 5000) push(record(++n, n % 3 === 0 ? 'ascii '.repeat(200) : 'ünïcödé '.repeat(150)), n % 7 === 0 ? '\r\n' : '\n');
    if (n % 5 === 0) push('');
    // The note starts with ASCII up to one byte before the boundary, then the character.
    const empty = Buffer.byteLength(record(n + 1, ''));
    const prefix = Buffer.byteLength(
      record(n + 1, '')
        .slice(0, -1)
        .split('"note":"')[0] + '"note":"',
    );
    const pad = boundary - 1 - bytes - prefix;
    assert.ok(pad > 0 && empty > 0);
    push(record(++n, 'x'.repeat(pad) + ch.repeat(3) + ' ünïcödé'));
  }
  push(record(++n, 'last, with no newline'), '');
  const text = parts.join('');
  const file = path.join(tempDir('percept-read-'), 'messages.jsonl');
  fs.writeFileSync(file, text);
  // Each straddling character really does straddle a read.
  const raw = fs.readFileSync(file);
  for (const b of [CHUNK, 2 * CHUNK, 3 * CHUNK]) assert.ok((at(raw, b) & 0xc0) === 0x80, `a continuation byte at ${b}`);

  const expected = text
    .split('\n')
    .map((l, i) => ({ l: l.endsWith('\r') ? l.slice(0, -1) : l, position: i + 1 }))
    .filter(({ l }) => l !== '');
  const got: ReceivedMessage[] = [];
  for await (const m of new JsonlMessageSource(file).messages()) got.push(m);
  assert.equal(got.length, expected.length);
  for (const [i, m] of got.entries()) {
    const e = JSON.parse(at(expected, i).l) as { messageId: string; properties: Record<string, string> };
    assert.equal(m.position, at(expected, i).position, `position of ${e.messageId}`);
    assert.equal(m.messageId, e.messageId);
    assert.equal(m.properties.note, e.properties.note, `the note of ${e.messageId}`);
    assert.equal(m.bodyMismatch, undefined);
  }
});
