// The twin cannot end the run: a desired document with a finite source (image, folder, video)
// is rejected and reported like any invalid one, and the agent keeps
// running on its previous configuration. Real emulator, real SDK, real agent process.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startTestHub } from '../helpers/emulator.js';
import { agentArgs, startAgent, until } from '../helpers/agent.js';
import { image, tempDir } from '../helpers/paths.js';

type Config = { version: number | null; status: string; error: { code: string; message: string; version: number } | null };
type Reported = { percept?: { config?: Config; running?: { sources?: Array<{ id: string; kind: string }> } } };

test('a finite source in a desired patch is rejected and the agent keeps running', { timeout: 120_000 }, async () => {
  const hub = await startTestHub();
  const state = tempDir();
  const agent = startAgent(agentArgs(hub, state), { stateDir: state });
  const config = () => (hub.hub.twin(hub.deviceId).reported as Reported).percept?.config;
  const rejection = (version: number) =>
    until(`rejection of $version ${version}`, () => {
      const c = config();
      return c && c.status === 'rejected' && c.error?.version === version ? c : null;
    });
  try {
    await hub.hub.waitForMessages(1, { deviceId: hub.deviceId }, 30_000);
    await until('initial report', () => config());

    const bad = hub.hub.patchDesired(hub.deviceId, { sources: [{ id: 'x', kind: 'image', uri: image('dog.jpg') }] });
    const c = await rejection((bad.desired as { $version: number }).$version);
    assert.equal(c.error?.code, 'ERR_CONFIG');
    assert.match(c.error.message, /sources\.0\.kind: the twin may set only live sources/);
    // Still running on the command line's source: telemetry keeps flowing from it.
    const before = hub.hub.messages(hub.deviceId).length;
    await hub.hub.waitForMessages(before + 3, { deviceId: hub.deviceId }, 15_000);
    assert.equal(agent.child.exitCode, null, `the agent exited: ${agent.stderr()}`);
    assert.deepEqual((hub.hub.twin(hub.deviceId).reported as Reported).percept?.running?.sources, [{ id: 'dog', kind: 'image' }]);

    // A key JSON carries as data but JavaScript reads as the prototype: this hub refuses it
    // (IoT Hub may not; the agent's own check of such a document is in config/desired-proto).
    assert.throws(() => hub.hub.patchDesired(hub.deviceId, JSON.parse('{"telemetry": {"__proto__": 5}}') as Record<string, unknown>), /__proto__/);

    // A valid patch then applies.
    // (It removes the rejected sources too: the desired document is merged, patch by patch.)
    const ok = hub.hub.patchDesired(hub.deviceId, { sources: null, telemetry: { intervalMs: 700 } });
    await until('applied', () => {
      const x = config();
      return x?.status === 'applied' && x.version === (ok.desired as { $version: number }).$version;
    });
    assert.equal(await agent.stop(), 0, agent.stderr());
  } catch (e) {
    console.error(agent.stderr().slice(-4000));
    throw e;
  } finally {
    await agent.stop();
    await hub.close();
  }
});
