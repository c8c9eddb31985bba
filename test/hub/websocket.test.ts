// The agent over MQTT over WebSockets (`--transport mqttws`), SAS and X.509. The SDK's MqttWs
// dials only wss://<HostName>:443, so the hub takes 443 on 127.0.0.1 and the connection string
// names `localhost` without a port; without root, or with 443 held, the tests skip and say why.
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { EmulatorError, WEBSOCKET_PORT } from '../../src/emulator/index.js';
import { startTestHub, type TestHub } from '../helpers/emulator.js';
import { agentArgs, startAgent } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';
import { unavailable } from '../helpers/requirements.js';

interface Connected {
  key: string;
  auth: string;
  transport: string;
}

/** A test hub on 443 with the connections it logged, or null after skipping with the reason. */
async function hubOn443(t: TestContext): Promise<{ hub: TestHub; connected: Connected[] } | null> {
  if (process.getuid?.() !== 0) {
    t.skip(unavailable(`MqttWs dials port ${WEBSOCKET_PORT} only, and binding it needs root (uid ${process.getuid?.()})`, 'run the tests as root'));
    return null;
  }
  const connected: Connected[] = [];
  const logger = { debug() {}, warn() {}, error() {}, info: (o: object, msg?: string) => void (msg === 'device connected' && connected.push(o as Connected)) };
  // another test's emulator (`percept start` takes 443 when it can) may hold it for a while
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return { hub: await startTestHub({ wsPort: WEBSOCKET_PORT, logger }), connected };
    } catch (err) {
      if (EmulatorError.is(err, 'PortNotAllowed')) {
        t.skip(unavailable(`MqttWs dials port ${WEBSOCKET_PORT} only, and this process may not bind it: ${err.message}`, 'run the tests as root'));
        return null;
      }
      if (!EmulatorError.is(err, 'PortInUse')) throw err;
      if (Date.now() > deadline) {
        t.skip(`port ${WEBSOCKET_PORT} on 127.0.0.1 stayed in use for 30 s (another emulator or service holds it)`);
        return null;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** What the agent is given: the hub's host without a port, as MqttWs needs. */
function overWebSockets(hub: TestHub, connectionString: string): string {
  const cs = connectionString.replace(`HostName=${hub.hub.hostName};`, `HostName=${hub.hub.host};`);
  assert.match(cs, /^HostName=localhost;/);
  return cs;
}

function deliveredFrames(hub: TestHub, deviceId: string): number {
  // Windows carry frames; track events (sent beside them by default) do not.
  return hub.hub
    .messages(deviceId)
    .filter((m) => m.properties.schema === 'percept.detections/1')
    .reduce((n, m) => n + (m.body as { frames: unknown[] }).frames.length, 0);
}

test('the agent delivers telemetry over MQTT over WebSockets with a SAS key', { timeout: 120_000 }, async (t) => {
  const on = await hubOn443(t);
  if (!on) return;
  const { hub, connected } = on;
  try {
    const state = tempDir();
    const args = agentArgs({ ...hub, connectionString: overWebSockets(hub, hub.connectionString) }, state, ['--frames', '4', '--transport', 'mqttws']);
    const agent = startAgent(args, { stateDir: state });
    assert.equal(await agent.exited, 0, agent.stderr());
    assert.equal(deliveredFrames(hub, hub.deviceId), 4, 'every frame of the run was delivered');
    assert.ok(connected.length >= 1);
    assert.deepEqual(
      connected.map((c) => [c.key, c.auth, c.transport]),
      connected.map(() => [hub.deviceId, 'sas', 'wss']),
      'every connection came over WebSockets',
    );
  } finally {
    await hub.close();
  }
});

test('the agent delivers telemetry over MQTT over WebSockets with an X.509 certificate', { timeout: 120_000 }, async (t) => {
  const on = await hubOn443(t);
  if (!on) return;
  const { hub, connected } = on;
  try {
    const made = hub.hub.addX509Device('cam-ws-x509');
    const state = tempDir();
    const extra = ['--frames', '4', '--transport', 'mqttws', '--cert', made.files!.certPath, '--key', made.files!.keyPath];
    const agent = startAgent(agentArgs({ ...hub, connectionString: overWebSockets(hub, made.connectionString) }, state, extra), { stateDir: state });
    assert.equal(await agent.exited, 0, agent.stderr());
    assert.equal(deliveredFrames(hub, 'cam-ws-x509'), 4);
    assert.ok(connected.length >= 1);
    assert.deepEqual(
      connected.map((c) => [c.key, c.auth, c.transport]),
      connected.map(() => ['cam-ws-x509', 'x509', 'wss']),
    );
  } finally {
    await hub.close();
  }
});
