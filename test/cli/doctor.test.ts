// percept doctor reports what the machine offers, and fails when a default needs something
// missing.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { at, must } from '../helpers/at.js';

test('doctor passes here and names each check; an unusable state folder fails it', async () => {
  const r = await runCli(['doctor', '--json', '--state-dir', tempDir()]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout) as { ok: boolean; checks: Array<{ name: string; ok: boolean; required: boolean }> };
  assert.equal(report.ok, true);
  const names = report.checks.map((c) => c.name);
  for (const n of ['node', 'ffmpeg', 'onnxruntime-node', 'sharp', 'model blazeface-back', 'demo photos', 'tpm', 'state folder'])
    assert.ok(names.includes(n), n);
  assert.ok(report.checks.find((c) => c.name === 'model blazeface-back')!.ok);

  // A folder below a regular file can never be created.
  const blocker = path.join(tempDir(), 'a-file');
  fs.writeFileSync(blocker, '');
  const bad = await runCli(['doctor', '--state-dir', path.join(blocker, 'state')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /FAIL\s+state folder/);
  assert.match(bad.stdout, /choose a writable --state-dir/);
});

test('doctor names the state folder and signing key a run would use, and fails a key others can read', async () => {
  const state = path.join(tempDir(), 'state');
  type Report = { ok: boolean; checks: Array<{ name: string; ok: boolean; detail: string }> };
  const find = (r: Report, name: string) => r.checks.find((c) => c.name === name)!;
  // Before any run: the key is named as the one the first run will create.
  const before = JSON.parse((await runCli(['doctor', '--json'], { env: { PERCEPT_STATE_DIR: state } })).stdout) as Report;
  assert.match(find(before, 'state folder').detail, new RegExp(`^${state.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(mode 700, free\\)`));
  assert.match(find(before, 'signing key').detail, /signing-key\.pem \(software; not created yet/);

  const exported = await runCli(['keys', 'export', '--state', state, '--device', 'd']);
  const kid = at(must((JSON.parse(exported.stdout) as Record<string, { keys: Array<{ kid: string }> }>).d, 'device d').keys, 0).kid;
  const r = await runCli(['doctor', '--json', '--state-dir', state]);
  assert.equal(r.code, 0, r.stdout);
  assert.equal(
    find(JSON.parse(r.stdout) as Report, 'signing key').detail,
    `${path.join(state, 'signing-key.pem')} (software, kid ${kid}); \`percept keys export\` prints its keys-file entry`,
  );

  fs.chmodSync(path.join(state, 'signing-key.pem'), 0o640);
  const open = await runCli(['doctor', '--state-dir', state]);
  assert.equal(open.code, 1);
  assert.match(open.stdout, /FAIL\s+signing key\s+\S+ \(software\) is readable by other users \(mode 640\)/);
});
