// One process per state folder: a second `percept run` (or `percept hub`) on a folder in use
// exits 2 with ERR_STATE_LOCKED naming the holder; SIGKILL of the holder frees the folder, and
// so does a normal exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { startAgent, until } from '../helpers/agent.js';
import { startHubProcess } from '../helpers/hub-process.js';
import { tempDir } from '../helpers/paths.js';
import { StateLock } from '../../src/state/lock.js';
import { PerceptError } from '../../src/errors.js';

const endless = (stateDir: string) => ['run', '--source', 'synthetic', '--fps', '2', '--state-dir', stateDir, '--no-preview', '--output', 'jsonl'];

test('a second run on a busy state folder exits 2 naming the holder; after SIGKILL of the holder a new run starts', { timeout: 90_000 }, async () => {
  const stateDir = path.join(tempDir('percept-lock-'), 'new', 'state');
  const first = startAgent(endless(stateDir), { stateDir });
  try {
    // The first run is past start-up once it prints a result.
    await until('a first result', () => first.stdout().includes('"seq"'), 40_000);
    const second = await runCli(['run', '--source', 'synthetic', '--frames', '1', '--state-dir', stateDir, '--no-preview', '--output', 'none'], {
      timeoutMs: 30_000,
    });
    assert.equal(second.code, 2, second.stderr);
    assert.match(second.stderr, /ERR_STATE_LOCKED/);
    assert.ok(second.stderr.includes(`${stateDir} is in use by process ${first.child.pid}`), second.stderr);
    assert.equal(first.child.exitCode, null, 'the holder keeps running');

    first.child.kill('SIGKILL');
    await first.exited;
    const third = await runCli(['run', '--source', 'synthetic', '--frames', '2', '--state-dir', stateDir, '--no-preview', '--output', 'jsonl'], {
      timeoutMs: 60_000,
    });
    assert.equal(third.code, 0, third.stderr);
    assert.equal(third.stdout.trim().split('\n').length, 2);
    // A normal exit gives the folder up: this process can take it now.
    StateLock.acquire(stateDir).release();
  } finally {
    await first.stop();
  }
});

test("the lock is the process's until it releases it, and the folder is created 0700", () => {
  const stateDir = path.join(tempDir('percept-lock-'), 'a', 'b');
  const held = StateLock.acquire(stateDir);
  assert.equal(fs.statSync(stateDir).mode & 0o777, 0o700);
  assert.throws(
    () => StateLock.acquire(stateDir),
    (e: unknown) => PerceptError.is(e, 'ERR_STATE_LOCKED') && e.message.includes(`in use by process ${process.pid}`),
  );
  assert.equal(StateLock.holder(stateDir), process.pid);
  held.release();
  assert.equal(StateLock.holder(stateDir), null);
  StateLock.acquire(stateDir).release();
});

test('a second emulator on the same state folder exits 2 with ERR_STATE_LOCKED', { timeout: 60_000 }, async () => {
  const hub = await startHubProcess({ deviceId: 'lock-dev' });
  try {
    const second = await runCli(['hub', '--state', hub.stateDir, '--mqtt-port', '0', '--api-port', '0', '--ws-port', 'off'], { timeoutMs: 20_000 });
    assert.equal(second.code, 2, second.stderr);
    assert.ok(second.stderr.includes(`[ERR_STATE_LOCKED] ${hub.stateDir} is in use by process ${hub.pid}`), second.stderr);
    await hub.kill();
    await hub.start();
  } finally {
    await hub.stop();
  }
});
