// Hub errors a new user meets, each said with its next step, and a run that ends when it is
// told to: an untrusted hub certificate (no --ca for the emulator), a TPM-held key with no TPM
// (a configuration error, exit 2), and --frames with a hub that refuses connections.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startTestHub } from '../helpers/emulator.js';
import { agentArgs } from '../helpers/agent.js';
import { jsonLines, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { freePort } from '../helpers/net.js';

/** agentArgs with `--ca` left out and `--connection-string` replaced. */
function args(hub: Parameters<typeof agentArgs>[0], state: string, cs: string, extra: string[], ca = false): string[] {
  const a = agentArgs(hub, state, extra);
  a[a.indexOf('--connection-string') + 1] = cs;
  if (!ca) a.splice(a.indexOf('--ca'), 2);
  return a;
}

test("without --ca the emulator's certificate is reported as untrusted, with the flag to pass", { timeout: 90_000 }, async () => {
  const hub = await startTestHub();
  try {
    const r = await runCli(args(hub, tempDir(), hub.connectionString, ['--frames', '2']));
    assert.equal(r.code, 0, r.stderr);
    const failure = jsonLines(r.stderr).find((l) => l.errorCode === 'ERR_HUB_UNTRUSTED');
    assert.ok(failure, r.stderr);
    assert.equal(failure.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    assert.match(String(failure.msg), /the hub's certificate is not trusted: pass --ca/);
    assert.doesNotMatch(String(failure.msg), /Not authorized/);
  } finally {
    await hub.close();
  }
});

test('SharedAccessKeyInTpm=true without a reachable TPM is a configuration error: exit 2 with the next step', { timeout: 60_000 }, async () => {
  const hub = await startTestHub();
  try {
    const cs = hub.connectionString.replace(/SharedAccessKey=[^;]+/, 'SharedAccessKeyInTpm=true');
    const port = await freePort();
    const r = await runCli([...args(hub, tempDir(), cs, ['--frames', '2'], true), '--tcti', `swtpm:host=127.0.0.1,port=${port}`]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /percept: \[ERR_CONFIG\] the connection string says SharedAccessKeyInTpm=true, but the TPM cannot sign/);
    assert.match(r.stderr, /--tcti/);
  } finally {
    await hub.close();
  }
});

test('--frames with a refused hub exits once stopped, without waiting for a backoff timer', { timeout: 90_000 }, async () => {
  const hub = await startTestHub();
  const state = tempDir();
  // Backoff of up to a minute: a sleeping retry would hold the process that long.
  const config = path.join(state, 'config.json');
  fs.writeFileSync(config, JSON.stringify({ hub: { backoffMinMs: 60_000, backoffMaxMs: 60_000 } }));
  const port = await freePort();
  await hub.close();
  const cs = hub.connectionString.replace(/localhost:\d+/, `localhost:${port}`);
  let stoppedAt = 0;
  const started = Date.now();
  const r = await runCli([...args(hub, state, cs, ['--frames', '2'], true), '--config', config], { timeoutMs: 80_000 });
  const exitedAt = Date.now();
  assert.equal(r.code, 0, r.stderr);
  const stopped = jsonLines(r.stderr).find((l) => l.msg === 'stopped');
  assert.ok(stopped, r.stderr);
  stoppedAt = stopped.time as number;
  // Process start-up and teardown take well under this; a pending retry would take up to 60 s.
  assert.ok(exitedAt - stoppedAt < 10_000, `exited ${exitedAt - stoppedAt} ms after 'stopped' (run took ${exitedAt - started} ms)`);
});
