// The agent authenticates with an X.509 certificate: `--connection-string "...;x509=true"
// --cert --key` delivers its telemetry through the real SDK, and a certificate the hub does not
// know is refused at CONNECT, so nothing arrives and the agent keeps retrying.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeCertificate } from '../../src/emulator/index.js';
import { startTestHub } from '../helpers/emulator.js';
import { agentArgs, startAgent, until } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';
import { at } from '../helpers/at.js';

test('an X.509 device delivers telemetry with --cert and --key', { timeout: 90_000 }, async () => {
  const hub = await startTestHub();
  try {
    const { connectionString, files } = hub.hub.addX509Device('cam-x509');
    const state = tempDir();
    const args = agentArgs({ ...hub, connectionString }, state, [
      '--frames',
      '4',
      '--cert',
      files!.certPath,
      '--key',
      files!.keyPath,
      '--telemetry-mode',
      'windows',
    ]);
    const agent = startAgent(args, { stateDir: state });
    assert.equal(await agent.exited, 0, agent.stderr());
    const msgs = hub.hub.messages('cam-x509');
    assert.ok(msgs.length >= 1, 'telemetry arrived');
    let frames = 0;
    for (const m of msgs) {
      assert.equal(m.properties.schema, 'percept.detections/1');
      const body = m.body as { deviceId: string; frames: unknown[] };
      assert.equal(body.deviceId, 'cam-x509');
      frames += body.frames.length;
    }
    assert.equal(frames, 4, 'every frame of the run was delivered');
    assert.match(agent.stderr(), /"auth":"x509".*connected to the hub|connected to the hub.*"auth":"x509"/);
    assert.equal(hub.hub.messages(hub.deviceId).length, 0, 'nothing went to the SAS device');
  } finally {
    await hub.close();
  }
});

test('a certificate the hub does not know is refused and nothing is delivered', { timeout: 90_000 }, async () => {
  // the hub's own log says why each CONNECT was refused; the agent's wording is its own business
  const refusals: string[] = [];
  const logger = {
    debug() {},
    warn() {},
    error() {},
    info: (o: object, msg?: string) => void (msg === 'connection refused' && refusals.push((o as { reason: string }).reason)),
  };
  const hub = await startTestHub({ logger });
  try {
    const { connectionString } = hub.hub.addX509Device('cam-x509');
    const dir = tempDir();
    const stranger = makeCertificate('cam-x509');
    const certPath = path.join(dir, 'stranger.cert.pem');
    const keyPath = path.join(dir, 'stranger.key.pem');
    fs.writeFileSync(certPath, stranger.certPem);
    fs.writeFileSync(keyPath, stranger.keyPem, { mode: 0o600 });
    const state = tempDir();
    const agent = startAgent(agentArgs({ ...hub, connectionString }, state, ['--cert', certPath, '--key', keyPath]), { stateDir: state });
    try {
      await until('a refused connection attempt', () => refusals.length > 0, 30_000);
      assert.match(at(refusals, 0), /certificate thumbprint [0-9A-F]{40} is not the one registered for cam-x509/);
      assert.equal(hub.hub.isConnected('cam-x509'), false);
      assert.equal(hub.hub.messages().length, 0);
    } finally {
      // graceful shutdown of a refused agent is not what this test is about: end it at once
      agent.child.kill('SIGKILL');
      await agent.exited;
    }
  } finally {
    await hub.close();
  }
});
