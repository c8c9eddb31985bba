// `npm start` (percept start): the emulator, a device and the agent on its defaults; telemetry
// reaches the emulator within 10 s, with no cloud, and Ctrl-C stops everything cleanly.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { CLI, ROOT, tempDir } from '../helpers/paths.js';

test('percept start shows telemetry arriving at the local emulator within 10 s', async (t) => {
  const dir = tempDir();
  const hubState = path.join(dir, 'hub');
  const t0 = Date.now();
  const child = spawn(process.execPath, [CLI, 'start', '--state', hubState, '--no-preview', '--output', 'summary'], { cwd: ROOT, env: { ...process.env, PERCEPT_STATE_DIR: path.join(dir, 'state') }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const kill = () => child.exitCode === null && child.kill('SIGKILL');
  process.on('exit', kill);
  try {
    const deadline = t0 + 10_000;
    while (!/hub <- /.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /hub <- \S+ [0-9a-f]{16}:1 demo: \d+ frames/, `telemetry within 10 s; stderr: ${err}`);
    t.diagnostic(`first message after ${Date.now() - t0} ms`);
    // The emulator's log holds the same messages.
    const log = fs.readFileSync(path.join(hubState, 'messages.jsonl'), 'utf8').trim().split('\n');
    assert.ok(log.length >= 1);
    assert.equal(JSON.parse(log[0]).deviceId, 'percept', 'the default device, the same as percept hub\'s');
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, err);
    assert.match(err, /"drained":true/);
    // The emulator child is gone too.
    assert.equal(fs.existsSync(path.join(hubState, 'ports.json')), false, 'the emulator stopped and removed its ports file');
  } finally {
    kill();
  }
});
