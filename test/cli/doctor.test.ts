// percept doctor reports what the machine offers, and fails when a default needs something
// missing.
import test from 'node:test';
import assert from 'node:assert/strict';
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

  const bad = await runCli(['doctor', '--state-dir', '/proc/percept-cannot-write-here']);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /FAIL\s+state folder/);
  assert.match(bad.stdout, /choose a writable --state-dir/);
});
