// Motion settings from the module twin apply to the running gates: turning the gate on for a
// still source makes getStatus count skipped frames, without rebuilding the pipeline or
// reopening the source; a bad mask is rejected and reported like any bad document. Real
// emulator, real SDK, real agent process.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startTestHub } from '../helpers/emulator.js';
import { agentArgs, startAgent, until } from '../helpers/agent.js';
import { jsonLines } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';

type Config = { version: number | null; status: string; error: { code: string; message: string; version: number } | null };
type Reported = { percept?: { config?: Config } };
type Status = { pipeline: { frames: { inferred: number; skipped: number }; sources: Array<{ id: string; skipped: number; motion: boolean | null }> } };

test('the twin turns the motion gate on live; a bad mask is rejected', { timeout: 120_000 }, async () => {
  const hub = await startTestHub();
  const state = tempDir();
  const agent = startAgent(agentArgs(hub, state), { stateDir: state, env: { PERCEPT_LOG_LEVEL: 'info' } });
  const config = () => (hub.hub.twin(hub.deviceId).reported as Reported).percept?.config;
  const settled = (version: number) =>
    until(`report of $version ${version}`, () => {
      const c = config();
      return c && (c.status === 'applied' ? c.version === version : c.error?.version === version) ? c : null;
    });
  const status = async () => (await hub.hub.invokeMethod(hub.deviceId, 'getStatus', null, { timeoutSeconds: 10 })).payload as Status;
  const logs = () => jsonLines(agent.stderr());
  try {
    await hub.hub.waitForMessages(1, { deviceId: hub.deviceId }, 30_000);
    await until('initial report', () => config());
    const before = await status();
    assert.equal(before.pipeline.frames.skipped, 0, 'an image source is not gated by default');
    assert.equal(before.pipeline.sources[0]!.motion, null);

    const on = hub.hub.patchDesired(hub.deviceId, { motion: { enabled: 'on', keyframeSeconds: 60 } });
    const applied = await settled((on.desired as { $version: number }).$version);
    assert.equal(applied.status, 'applied', JSON.stringify(applied));
    await until('frames skipped', async () => (await status()).pipeline.frames.skipped >= 8);
    const s = await status();
    assert.equal(s.pipeline.sources[0]!.motion, false, 'the gate sees no motion in the still photo');
    assert.ok(!logs().some((l) => l.msg === 'configuration changed: rebuilding the pipeline'), 'no rebuild for motion settings');
    assert.equal(logs().filter((l) => l.msg === 'source open').length, 1, 'the source was not reopened');

    const bad = hub.hub.patchDesired(hub.deviceId, {
      sources: [
        {
          id: 'cam',
          kind: 'synthetic',
          motionMasks: [
            [
              [0, 0],
              [2, 0],
              [1, 1],
            ],
          ],
        },
      ],
    });
    const rejected = await settled((bad.desired as { $version: number }).$version);
    assert.equal(rejected.status, 'rejected');
    assert.equal(rejected.error?.code, 'ERR_CONFIG');
    assert.match(rejected.error.message, /motionMasks\.0\.1\.0/);
    assert.equal(await agent.stop(), 0, agent.stderr());
  } catch (e) {
    console.error(agent.stderr().slice(-4000));
    throw e;
  } finally {
    await agent.stop();
    await hub.close();
  }
});
