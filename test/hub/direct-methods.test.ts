// Direct methods answer within their timeouts: getStatus, snapshot (the whole answer within
// IoT Hub's 128 KB), restartPipeline, setLogLevel; bad payloads get 400, unknown methods 404.
import test from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { startTestHub } from '../helpers/emulator.js';
import { agentArgs, startAgent, until } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';

test('direct methods', async () => {
  const hub = await startTestHub();
  const state = tempDir();
  const agent = startAgent(agentArgs(hub, state), { stateDir: state });
  try {
    await until('connected', () => hub.hub.isConnected(hub.deviceId));
    await hub.hub.waitForMessages(1, { deviceId: hub.deviceId }, 30_000);
    const call = (name: string, payload: unknown = null) => hub.hub.invokeMethod(hub.deviceId, name, payload, { timeoutSeconds: 10 });

    const st = await call('getStatus');
    assert.equal(st.status, 200);
    const status = st.payload as { pipeline: { models: Array<{ name: string; provider: string }>; frames: { inferred: number } }; hub: { state: string; deviceId: string } };
    assert.equal(status.pipeline.models[0].name, 'yolox-nano');
    assert.equal(status.pipeline.models[0].provider, 'cpu');
    assert.ok(status.pipeline.frames.inferred > 0);
    assert.equal(status.hub.state, 'connected');
    assert.doesNotMatch(JSON.stringify(st.payload), /SharedAccessKey/);

    const snap = await call('snapshot', { source: 'dog' });
    assert.equal(snap.status, 200);
    const s = snap.payload as { image: string; width: number; height: number; detections: Array<{ label: string }> };
    assert.ok(JSON.stringify(snap.payload).length <= 128 * 1024, 'within the method payload limit');
    assert.deepEqual(s.detections.map((d) => d.label).sort(), ['bicycle', 'car', 'dog']);
    const meta = await sharp(Buffer.from(s.image, 'base64')).metadata();
    assert.equal(meta.format, 'jpeg');
    assert.equal(meta.width, s.width);

    const bad = await call('snapshot', { source: 42 });
    assert.equal(bad.status, 400);

    const lvl = await call('setLogLevel', { level: 'debug' });
    assert.equal(lvl.status, 200);
    assert.deepEqual(lvl.payload, { level: 'debug', previous: 'info' });
    assert.equal((await call('setLogLevel', { level: 'loud' })).status, 400);

    const before = (await call('getStatus')).payload as { pipeline: { frames: { inferred: number } } };
    const rs = await call('restartPipeline');
    assert.equal(rs.status, 200);
    const after = (await call('getStatus')).payload as { pipeline: { frames: { inferred: number } } };
    assert.ok(after.pipeline.frames.inferred < before.pipeline.frames.inferred, 'a new pipeline counts from zero');
    const n = hub.hub.messages(hub.deviceId).length;
    await hub.hub.waitForMessages(n + 1, { deviceId: hub.deviceId }, 10_000);

    const unknown = await call('selfDestruct');
    assert.equal(unknown.status, 404);
    assert.match(JSON.stringify(unknown.payload), /no method 'selfDestruct'/);
  } finally {
    assert.equal(await agent.stop(), 0, agent.stderr());
    await hub.close();
  }
});
