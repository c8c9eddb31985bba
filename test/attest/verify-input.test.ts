// What `percept verify` makes of input that is not a clean stream: an empty input is a
// finding (nothing to verify), a `body` changed behind an untouched `bodyBase64` is a forgery,
// one huge line is skipped unread in bounded memory, and --device checks one device of many.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { CLI, tempDir } from '../helpers/paths.js';
import { copy, recordStream, replaced, writeJsonl } from '../helpers/chain-stream.js';
import type { Report } from '../../src/attest/verify.js';
import { at } from '../helpers/at.js';

async function setup() {
  const { lines, keys } = await recordStream({ sizes: [4], every: 2 });
  const dir = tempDir();
  const keysFile = path.join(dir, 'keys.json');
  fs.writeFileSync(keysFile, JSON.stringify(keys));
  return { lines, keys, dir, keysFile };
}

test('an empty input, or none from the device asked for, is a finding: nothing to verify', async () => {
  const { lines, dir, keysFile } = await setup();
  const empty = path.join(dir, 'empty.jsonl');
  fs.writeFileSync(empty, '');
  const r = await runCli(['verify', '--messages', empty, '--keys', keysFile]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /NOTHING\s+nothing to verify/);
  assert.doesNotMatch(r.stdout, /OK/);

  const blank = path.join(dir, 'blank.jsonl');
  fs.writeFileSync(blank, '\n\n');
  const j = await runCli(['verify', '--messages', blank, '--keys', keysFile, '--json']);
  assert.equal(j.code, 1);
  const report = JSON.parse(j.stdout) as Report;
  assert.deepEqual(
    report.input.map((p) => p.reason),
    ['empty'],
  );
  assert.equal(report.ok, false);

  const some = writeJsonl(lines, path.join(dir, 'some.jsonl'));
  const other = await runCli(['verify', '--messages', some, '--keys', keysFile, '--device', 'no-such-device']);
  assert.equal(other.code, 1, other.stdout);
  assert.match(other.stdout, /nothing to verify: no messages from no-such-device/);
});

test('a body changed while bodyBase64 was kept fails verification', async () => {
  const { lines, dir, keysFile } = await setup();
  const clean = writeJsonl(lines, path.join(dir, 'clean.jsonl'));
  assert.equal((await runCli(['verify', '--messages', clean, '--keys', keysFile])).code, 0);

  const altered = copy(at(lines, 1));
  altered.body = { ...(at(lines, 1).body as Record<string, unknown>), counts: { dog: 99 } };
  const file = writeJsonl(replaced(lines, 1, altered), path.join(dir, 'altered.jsonl'));
  const r = await runCli(['verify', '--messages', file, '--keys', keysFile, '--json']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout) as Report;
  assert.deepEqual(
    at(report.devices, 0).forgeries.map((f) => [f.reason, f.position]),
    [['body-mismatch', 2]],
  );

  // A record without the readable copy is fine: the chain covers the bytes.
  const bare = lines.map((l) => {
    const { body: _body, ...rest } = l;
    return rest;
  });
  const bareFile = path.join(dir, 'bare.jsonl');
  fs.writeFileSync(bareFile, bare.map((l) => JSON.stringify(l)).join('\n') + '\n');
  assert.equal((await runCli(['verify', '--messages', bareFile, '--keys', keysFile])).code, 0);
});

test('a 50 MB line is skipped unread as a finding, in a 64 MB heap, and the lines after it are verified', { timeout: 60_000 }, async () => {
  const { lines, dir, keysFile } = await setup();
  const file = path.join(dir, 'huge.jsonl');
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, JSON.stringify(lines[0]) + '\n' + JSON.stringify(lines[1]) + '\n');
  const huge = JSON.stringify({ deviceId: 'dev-1', properties: {}, bodyBase64: 'A'.repeat(50 * 1024 * 1024) });
  fs.writeSync(fd, huge + '\n');
  fs.writeSync(
    fd,
    lines
      .slice(2)
      .map((l) => JSON.stringify(l))
      .join('\n') + '\n',
  );
  fs.closeSync(fd);

  const child = spawn(process.execPath, ['--max-old-space-size=64', CLI, 'verify', '--messages', file, '--keys', keysFile, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.equal(code, 1, err);
  const report = JSON.parse(out) as Report;
  assert.deepEqual(
    report.input.map((p) => [p.reason, p.position]),
    [['line-too-long', 3]],
  );
  assert.equal(report.messages, lines.length);
  assert.equal(at(report.devices, 0).forgeries.length, 0);
  assert.equal(at(report.devices, 0).gaps.length, 0);
});

test('--device checks one device in a file that holds several', async () => {
  const a = await recordStream({ sizes: [3], every: 1, deviceId: 'cam-a' });
  const b = await recordStream({ sizes: [3], every: 1, deviceId: 'cam-b' });
  const dir = tempDir();
  const keysFile = path.join(dir, 'keys.json');
  fs.writeFileSync(keysFile, JSON.stringify({ ...a.keys, ...b.keys }));
  // cam-b's stream loses a message: only a check that includes cam-b finds it.
  const file = writeJsonl([...a.lines, at(b.lines, 0), at(b.lines, 2)], path.join(dir, 'both.jsonl'));
  const all = await runCli(['verify', '--messages', file, '--keys', keysFile, '--json']);
  assert.equal(all.code, 1);
  assert.deepEqual(
    (JSON.parse(all.stdout) as Report).devices.map((d) => [d.device, d.ok]),
    [
      ['cam-a', true],
      ['cam-b', false],
    ],
  );

  const onlyA = await runCli(['verify', '--messages', file, '--keys', keysFile, '--device', 'cam-a', '--json']);
  assert.equal(onlyA.code, 0, onlyA.stdout + onlyA.stderr);
  const ra = JSON.parse(onlyA.stdout) as Report;
  assert.deepEqual(
    ra.devices.map((d) => d.device),
    ['cam-a'],
  );
  assert.equal(ra.messages, 3);

  const onlyB = await runCli(['verify', '--messages', file, '--keys', keysFile, '--device', 'cam-b']);
  assert.equal(onlyB.code, 1);
  assert.match(onlyB.stdout, /device cam-b/);
  assert.doesNotMatch(onlyB.stdout, /device cam-a/);
});
