// The v4l2 loader: an addon that cannot be loaded is one typed error listing the fixes, so a
// camera source can fall back to ffmpeg and say why.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { ROOT, tempDir } from '../helpers/paths.js';

const BINDING = path.join(ROOT, 'dist', 'src', 'capture', 'v4l2-binding.js');

function load(env: Record<string, string>): { ok: boolean; name?: string; code?: string; message?: string } {
  const script = `
    const m = await import(${JSON.stringify(BINDING)});
    try { const b = m.loadV4l2Binding(); console.log(JSON.stringify({ ok: typeof b.listDevices === 'function' && typeof b.Camera === 'function' })); }
    catch (e) { console.log(JSON.stringify({ ok: false, name: e.name, code: e.code, message: e.message, again: (() => { try { m.loadV4l2Binding(); } catch (f) { return f === e; } })() })); }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { ok: boolean };
}

test('the built addon loads', () => {
  assert.deepEqual(load({}), { ok: true });
});

test('a missing addon is one V4l2UnavailableError that lists the fixes', () => {
  const r = load({ PERCEPT_V4L2_ADDON: '/nonexistent/v4l2.node' }) as { ok: boolean; name: string; code: string; message: string; again: boolean };
  assert.equal(r.ok, false);
  assert.equal(r.name, 'V4l2UnavailableError');
  assert.equal(r.code, 'ERR_SOURCE_UNREADABLE');
  assert.match(r.message, /could not be loaded from \/nonexistent\/v4l2\.node/);
  assert.match(r.message, /1\. build it: .*node scripts\/build-native\.mjs/);
  assert.match(r.message, /backend: "ffmpeg"/);
  assert.equal(r.again, true, 'the failure is remembered, not retried on every call');
});

test('an addon built for another architecture is reported as such', () => {
  // The built addon with its ELF e_machine changed: aarch64 here on x64, x86-64 elsewhere.
  const elf = fs.readFileSync(path.join(ROOT, 'native', 'v4l2', 'build', 'Release', 'v4l2.node'));
  elf.writeUInt16LE(process.arch === 'x64' ? 0xb7 : 0x3e, 18);
  const foreign = path.join(tempDir(), 'v4l2.node');
  fs.writeFileSync(foreign, elf);
  const r = load({ PERCEPT_V4L2_ADDON: foreign }) as { ok: boolean; message: string };
  assert.equal(r.ok, false);
  assert.match(r.message, new RegExp(`built for another architecture than ${process.arch}: rebuild it on this machine`));
});
