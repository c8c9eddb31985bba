// `percept keys export` prints the keys-file entry of a state folder's software signing key
// (creating the key when missing); an agent that signs with that key is verified with it, and
// `percept verify --device` checks that one device in a keys file that holds several.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { agentArgs, startAgent, until } from '../helpers/agent.js';
import { startTestHub } from '../helpers/emulator.js';
import { recordStream } from '../helpers/chain-stream.js';
import type { KeysFile } from '../../src/attest/keys.js';
import type { Report } from '../../src/attest/verify.js';
import { at, must } from '../helpers/at.js';

test('keys export creates the key once (0600) and prints the entry percept verify reads', async () => {
  const state = path.join(tempDir(), 'fresh', 'state');
  const first = await runCli(['keys', 'export', '--state', state, '--device', 'cam-1']);
  assert.equal(first.code, 0, first.stderr);
  const keys = JSON.parse(first.stdout) as KeysFile;
  assert.deepEqual(Object.keys(keys), ['cam-1']);
  const entry = at(must(keys['cam-1'], 'cam-1').keys, 0);
  assert.equal(entry.attestation, 'software');
  assert.match(entry.kid, /^[0-9a-f]{16}$/);
  const keyFile = path.join(state, 'signing-key.pem');
  assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
  assert.equal(fs.statSync(state).mode & 0o777, 0o700);

  const again = await runCli(['keys', 'export', '--device', 'cam-1'], { env: { PERCEPT_STATE_DIR: state } });
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(JSON.parse(again.stdout), keys, 'the same key, found through PERCEPT_STATE_DIR');

  // Without --device: the identity of PERCEPT_CONNECTION_STRING.
  const byCs = await runCli(['keys', 'export', '--state', state], {
    env: { PERCEPT_CONNECTION_STRING: 'HostName=h.example;DeviceId=door;ModuleId=percept;SharedAccessKey=AAAA' },
  });
  assert.equal(byCs.code, 0, byCs.stderr);
  assert.deepEqual(Object.keys(JSON.parse(byCs.stdout) as KeysFile), ['door/percept']);

  // A key others can read is refused, not exported.
  fs.chmodSync(keyFile, 0o644);
  const open = await runCli(['keys', 'export', '--state', state, '--device', 'cam-1']);
  assert.notEqual(open.code, 0);
  assert.match(open.stderr, /readable by other users .*chmod 600/);
});

test('round trip: export the keys, run the agent with the software signer against the emulator, verify with --device', { timeout: 120_000 }, async (t) => {
  const hub = await startTestHub({ deviceId: 'sw-agent' });
  t.after(() => hub.close());
  const state = path.join(tempDir(), 'state');
  const exported = await runCli(['keys', 'export', '--state', state, '--device', 'sw-agent']);
  assert.equal(exported.code, 0, exported.stderr);

  // Another device in the same keys file, and in the same messages file.
  const other = await recordStream({ sizes: [3], every: 1, deviceId: 'other-cam' });
  const dir = tempDir();
  const keysFile = path.join(dir, 'keys.json');
  fs.writeFileSync(keysFile, JSON.stringify({ ...other.keys, ...(JSON.parse(exported.stdout) as KeysFile) }));

  const agent = startAgent(agentArgs(hub, state, ['--signer', 'software']), { stateDir: state });
  t.after(() => agent.stop());
  await until('connected', () => hub.hub.isConnected('sw-agent'), 30_000);
  await hub.hub.waitForMessages(3, { deviceId: 'sw-agent' }, 30_000);
  assert.equal(await agent.stop(), 0, agent.stderr());

  const messages = path.join(dir, 'messages.jsonl');
  const received = fs.readFileSync(path.join(hub.stateDir, 'messages.jsonl'), 'utf8');
  // other-cam's stream lost its middle message: a finding only when other-cam is checked.
  fs.writeFileSync(messages, received + [other.lines[0], other.lines[2]].map((l) => JSON.stringify(l)).join('\n') + '\n');

  const mine = await runCli(['verify', '--messages', messages, '--keys', keysFile, '--device', 'sw-agent', '--json']);
  assert.equal(mine.code, 0, mine.stdout + mine.stderr);
  const report = JSON.parse(mine.stdout) as Report;
  assert.deepEqual(
    report.devices.map((d) => d.device),
    ['sw-agent'],
  );
  const d = at(report.devices, 0);
  assert.equal(at(d.keys, 0).kid, at(must((JSON.parse(exported.stdout) as KeysFile)['sw-agent'], 'sw-agent').keys, 0).kid);
  assert.ok(at(d.keys, 0).signatures >= 1, 'checkpoints signed with the exported key');
  assert.ok(d.verified.length >= 1);

  const all = await runCli(['verify', '--messages', messages, '--keys', keysFile]);
  assert.equal(all.code, 1, all.stdout);
  assert.match(all.stdout, /device other-cam/);
  assert.match(all.stdout, /GAP/);
});
