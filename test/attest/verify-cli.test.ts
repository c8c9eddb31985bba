// `percept verify` as scripts use it: exit 0 when everything verifies, 1 on any finding, 2 on
// bad usage or input; a text report by default and one JSON object with --json.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { forgeBody, recordStream, replaced, writeJsonl } from '../helpers/chain-stream.js';
import type { Report } from '../../src/attest/verify.js';
import { at, must } from '../helpers/at.js';

test('percept verify: 0 for a clean stream, 1 for a tampered one, with text and JSON reports', async () => {
  const { lines, keys } = await recordStream({ sizes: [5, 6], every: 2, unsignedTail: 1 });
  const dir = tempDir();
  const keysFile = path.join(dir, 'keys.json');
  fs.writeFileSync(keysFile, JSON.stringify(keys));
  const clean = writeJsonl([...lines, at(lines, 3)], path.join(dir, 'clean.jsonl'));

  const ok = await runCli(['verify', '--messages', clean, '--keys', keysFile]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /OK: every message verifies/);
  assert.match(ok.stdout, /duplicates\s+1 \(not findings/);
  assert.match(ok.stdout, /unsigned tail .*not a finding/);

  const json = await runCli(['verify', '--messages', clean, '--keys', keysFile, '--json']);
  assert.equal(json.code, 0);
  const report = JSON.parse(json.stdout) as Report;
  assert.equal(report.ok, true);
  assert.equal(report.messages, lines.length + 1);
  assert.equal(at(report.devices, 0).unique, lines.length);

  const tampered = writeJsonl(replaced(lines, 2, forgeBody(at(lines, 2))), path.join(dir, 'tampered.jsonl'));
  const bad = await runCli(['verify', '--messages', tampered, '--keys', keysFile, '--json']);
  assert.equal(bad.code, 1, bad.stderr);
  const badReport = JSON.parse(bad.stdout) as Report;
  assert.equal(badReport.ok, false);
  assert.equal(at(at(badReport.devices, 0).forgeries, 0).id, at(lines, 2).messageId);
  assert.equal(at(at(badReport.devices, 0).forgeries, 0).position, 3, 'positions are line numbers');
  const text = await runCli(['verify', '--messages', tampered, '--keys', keysFile]);
  assert.equal(text.code, 1);
  assert.match(text.stdout, /FORGERY\s+#3 /);
});

test('percept verify: 2 for bad usage or input', async () => {
  const { lines, keys } = await recordStream({ sizes: [2] });
  const dir = tempDir();
  const keysFile = path.join(dir, 'keys.json');
  fs.writeFileSync(keysFile, JSON.stringify(keys));
  const messages = writeJsonl(lines, path.join(dir, 'm.jsonl'));
  const badLine = path.join(dir, 'bad.jsonl');
  fs.writeFileSync(badLine, `${JSON.stringify(lines[0])}\n{"deviceId":"dev-1","properties":{}}\n`);
  const badKeys = path.join(dir, 'bad-keys.json');
  const entry = must(keys['dev-1'], 'dev-1');
  fs.writeFileSync(badKeys, JSON.stringify({ 'dev-1': { keys: [{ ...entry.keys[0], kid: '0000000000000000' }] } }));

  const cases: Array<[string[], RegExp]> = [
    [['verify'], /--messages and --keys are required/],
    [['verify', '--messages', messages, '--keys', keysFile, '--bogus'], /Unknown option/],
    [['verify', '--messages', path.join(dir, 'missing.jsonl'), '--keys', keysFile], /cannot be read/],
    [['verify', '--messages', messages, '--keys', path.join(dir, 'missing.json')], /cannot be read/],
    [['verify', '--messages', badLine, '--keys', keysFile], /bad\.jsonl:2: expected bodyBase64/],
    [['verify', '--messages', messages, '--keys', badKeys], /kid 0000000000000000 is not the id of its publicKeyPem/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  const help = await runCli(['verify', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Exit status: 0 everything verifies, 1 any finding, 2 bad usage or input/);
});
