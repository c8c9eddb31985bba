// `npm start` (percept start): the emulator, a device and the agent on its defaults; telemetry
// reaches the emulator, with no cloud, and Ctrl-C or a closed terminal (SIGHUP) stops
// everything cleanly, the emulator child included; a percept start killed outright does not
// leave its emulator behind.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { CLI, ROOT, tempDir } from '../helpers/paths.js';
import { startCli } from '../helpers/cli.js';
import { listening } from '../helpers/net.js';
import { at } from '../helpers/at.js';

test('percept start shows telemetry arriving at the local emulator', async (t) => {
  const dir = tempDir();
  const hubState = path.join(dir, 'hub');
  const t0 = Date.now();
  const child = spawn(process.execPath, [CLI, 'start', '--state', hubState, '--no-preview', '--output', 'summary'], {
    cwd: ROOT,
    env: { ...process.env, PERCEPT_STATE_DIR: path.join(dir, 'state') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const kill = () => child.exitCode === null && child.kill('SIGKILL');
  process.on('exit', kill);
  try {
    // About 5 s on an idle 2-core machine (the diagnostic below says); a loaded one needs more.
    const deadline = t0 + 45_000;
    while (!/hub <- /.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    // The first message is a window or a track event (a face found at once), each on its line.
    assert.match(out, /hub <- \S+ [0-9a-f]{16}:1 demo: (\d+ frames|new face \(track demo-\d+)/, `telemetry within 45 s; stderr: ${err}`);
    t.diagnostic(`first message after ${Date.now() - t0} ms`);
    // The emulator's log holds the same messages.
    const log = fs.readFileSync(path.join(hubState, 'messages.jsonl'), 'utf8').trim().split('\n');
    assert.ok(log.length >= 1);
    assert.equal((JSON.parse(at(log, 0)) as { deviceId: string }).deviceId, 'percept', "the default device, the same as percept hub's");
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

/** The pids whose parent is `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // Field 4 of stat is the parent pid; the command name (field 2) may hold spaces.
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The `percept hub` child of `pid`, or 0. */
const emulatorOf = (pid: number) => childrenOf(pid).find((c) => /\bhub\b/.test(fs.readFileSync(`/proc/${c}/cmdline`, 'utf8').replace(/\0/g, ' '))) ?? 0;

/** Whether `pid` has exited within `ms`. */
async function gone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
  return !alive(pid);
}

test('closing the terminal (SIGHUP) stops percept start and its emulator child', async () => {
  const dir = tempDir();
  const hubState = path.join(dir, 'hub');
  const cli = startCli(['start', '--state', hubState, '--no-preview', '--output', 'none'], { timeoutMs: 60_000 });
  let emulator = 0;
  try {
    // Running: the emulator is up and the agent has opened its source.
    assert.ok(
      await cli.waitFor((p) => /local IoT Hub emulator on mqtts:\/\/localhost:\d+/.test(p.stderr) && /"msg":"source open"/.test(p.stderr), 30_000),
      `the emulator and agent started; stderr: ${cli.stderr}`,
    );
    const mqtt = Number(/mqtts:\/\/localhost:(\d+)/.exec(cli.stderr)![1]);
    // The emulator runs in a process group of its own: a terminal's SIGHUP reaches only percept.
    emulator = emulatorOf(cli.pid);
    assert.ok(emulator, 'the emulator child process');
    assert.ok(await listening(mqtt), 'the emulator listens');
    cli.child.kill('SIGHUP');
    const r = await cli.done;
    assert.equal(r.code, 0, `exit code ${r.code} (signal ${r.signal}); stderr: ${r.stderr.slice(-2000)}`);
    assert.match(r.stderr, /"signal":"SIGHUP","msg":"stopping"/);
    assert.ok(await gone(emulator, 10_000), 'the emulator child is gone, not orphaned');
    assert.equal(await listening(mqtt), false, 'its MQTT port is free');
  } finally {
    cli.killGroup();
    if (emulator && alive(emulator)) process.kill(emulator, 'SIGKILL');
  }
});

test('a percept start killed outright (SIGKILL) does not leave its emulator behind', async () => {
  const dir = tempDir();
  const hubState = path.join(dir, 'hub');
  const cli = startCli(['start', '--state', hubState, '--no-preview', '--output', 'none'], { timeoutMs: 60_000 });
  let emulator = 0;
  try {
    assert.ok(
      await cli.waitFor((p) => /local IoT Hub emulator on mqtts:\/\/localhost:\d+/.test(p.stderr), 30_000),
      `the emulator started; stderr: ${cli.stderr}`,
    );
    emulator = emulatorOf(cli.pid);
    assert.ok(emulator, 'the emulator child process');
    // No handler runs: only the closing of the pipe the emulator reads tells it.
    cli.child.kill('SIGKILL');
    await cli.done;
    assert.ok(await gone(emulator, 15_000), 'the emulator stopped with its parent');
    assert.equal(fs.existsSync(path.join(hubState, 'ports.json')), false, 'and removed its ports file, as on a clean stop');
  } finally {
    cli.killGroup();
    if (emulator && alive(emulator)) process.kill(emulator, 'SIGKILL');
  }
});
