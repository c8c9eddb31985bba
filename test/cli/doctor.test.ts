// percept doctor reports what the machine offers, and fails when a default needs something
// missing.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';

test('doctor passes here and names each check; an unusable state folder fails it', async () => {
  const r = await runCli(['doctor', '--json', '--state-dir', tempDir()]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout) as { ok: boolean; checks: Array<{ name: string; ok: boolean; required: boolean }> };
  assert.equal(report.ok, true);
  const names = report.checks.map((c) => c.name);
  for (const n of ['node', 'ffmpeg', 'onnxruntime-node', 'sharp', 'model blazeface-back', 'demo photos', 'tpm', 'state folder']) assert.ok(names.includes(n), n);
  assert.ok(report.checks.find((c) => c.name === 'model blazeface-back')!.ok);

  // A folder below a regular file can never be created.
  const blocker = path.join(tempDir(), 'a-file');
  fs.writeFileSync(blocker, '');
  const bad = await runCli(['doctor', '--state-dir', path.join(blocker, 'state')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /FAIL\s+state folder/);
  assert.match(bad.stdout, /choose a writable --state-dir/);
});
