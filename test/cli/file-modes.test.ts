// File modes under `umask 000`: the agent's and the emulator's state folders are created 0700
// and every file in them 0600 (outbox with its -wal and -shm, saved twin, signing key, lock;
// the emulator's registry, twins and received messages), so nothing is open to other users.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, ROOT, tempDir } from '../helpers/paths.js';
import { until } from '../helpers/agent.js';

/** `percept <args>` under umask 000, in its own process group. */
function underUmask000(args: string[]): { child: ChildProcess; out: () => string; err: () => string } {
  const child = spawn('sh', ['-c', 'umask 000; exec "$0" "$@"', process.execPath, CLI, ...args], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const kill = () => child.exitCode === null && child.signalCode === null && process.kill(-child.pid!, 'SIGKILL');
  process.on('exit', kill);
  child.on('close', () => process.off('exit', kill));
  return { child, out: () => out, err: () => err };
}

async function stop(p: { child: ChildProcess }): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const closed = new Promise((r) => p.child.once('close', r));
  process.kill(-p.child.pid!, 'SIGTERM');
  await closed;
}

const mode = (f: string) => (fs.statSync(f).mode & 0o777).toString(8);

test('under umask 000 the state folders are 0700 and their files 0600', { timeout: 120_000 }, async (t) => {
  const base = tempDir();
  const hubState = path.join(base, 'hub');
  const state = path.join(base, 'agent', 'state');
  const hub = underUmask000(['hub', '--state', hubState, '--mqtt-port', '0', '--api-port', '0', '--ws-port', 'off', '--log-level', 'warn']);
  t.after(() => stop(hub));
  const cs = await until('the hub', () => /HostName=\S+;DeviceId=percept;SharedAccessKey=\S+/.exec(hub.out())?.[0], 60_000);
  const api = (JSON.parse(fs.readFileSync(path.join(hubState, 'ports.json'), 'utf8')) as { api: number }).api;

  const agent = underUmask000([
    'run',
    '--source',
    'synthetic',
    '--fps',
    '4',
    '--connection-string',
    cs,
    '--ca',
    path.join(hubState, 'ca.pem'),
    '--state-dir',
    state,
    '--no-preview',
    '--output',
    'none',
  ]);
  t.after(() => stop(agent));
  await until(
    'telemetry at the hub',
    () => fs.existsSync(path.join(hubState, 'messages.jsonl')) && fs.readFileSync(path.join(hubState, 'messages.jsonl'), 'utf8').includes('\n'),
    60_000,
  );
  const patched = await fetch(`http://127.0.0.1:${api}/devices/percept/twin/desired`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ telemetry: { intervalMs: 500 } }),
  });
  assert.equal(patched.status, 200);
  await until('the saved twin', () => fs.existsSync(path.join(state, 'twin-desired.json')) && fs.existsSync(path.join(hubState, 'twins.json')), 60_000);

  const dirs = [state, path.dirname(state), hubState];
  const files = [
    ...['outbox.db', 'outbox.db-wal', 'outbox.db-shm', 'twin-desired.json', 'signing-key.pem', 'lock.db', 'lock.pid'].map((f) => path.join(state, f)),
    ...['messages.jsonl', 'twins.json', 'registry.json', 'lock.db', 'lock.pid'].map((f) => path.join(hubState, f)),
  ];
  const seen = Object.fromEntries([...dirs, ...files].map((f) => [path.relative(base, f), mode(f)]));
  const want = Object.fromEntries([
    ...dirs.map((d) => [path.relative(base, d), '700'] as const),
    ...files.map((f) => [path.relative(base, f), '600'] as const),
  ]);
  assert.deepEqual(seen, want, agent.err());
});
