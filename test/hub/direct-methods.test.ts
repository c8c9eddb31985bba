// Direct methods answer within their timeouts: getStatus, snapshot (the whole answer within
// IoT Hub's 128 KB), restartPipeline, setLogLevel; bad payloads get 400, unknown methods 404.
// Methods also answer on a connection made after a failed attempt (through a cutting proxy).
import test from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import sharp from 'sharp';
import { FILTERS, startTestHub, waitForSubscription } from '../helpers/emulator.js';
import { HubLink } from '../../src/hub/link.js';
import { testLogger } from '../helpers/delivery.js';
import { agentArgs, startAgent, until } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';
import { at } from '../helpers/at.js';

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
    const status = st.payload as {
      pipeline: { models: Array<{ name: string; provider: string }>; frames: { inferred: number } };
      hub: { state: string; deviceId: string };
    };
    assert.equal(at(status.pipeline.models, 0).name, 'yolox-nano');
    assert.equal(at(status.pipeline.models, 0).provider, 'cpu');
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

/** A TCP proxy to the hub that cuts the first `cut` connections as they arrive. */
async function cuttingProxy(target: number, cut: number): Promise<{ port: number; cut: () => number; close: () => Promise<void> }> {
  let seen = 0;
  const socks = new Set<net.Socket>();
  const srv = net.createServer((inbound) => {
    if (++seen <= cut) return inbound.resetAndDestroy();
    const outbound = net.connect(target, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      socks.add(s);
      s.on('error', () => undefined);
      s.on('close', () => (socks.delete(s), inbound.destroy(), outbound.destroy()));
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    cut: () => Math.min(seen, cut),
    close: async () => {
      for (const s of socks) s.destroy();
      await new Promise((r) => srv.close(r));
    },
  };
}

// The SDK connects for a method listener registered before open, and open's own connect is
// queued behind it: when the first fails and the second works, the client is connected and
// deaf to methods. The link registers its methods on the live connection instead.
test('methods answer after a connection whose first attempt was cut', { timeout: 30_000 }, async () => {
  const hub = await startTestHub();
  const proxy = await cuttingProxy(hub.hub.mqttPort, 1);
  const link = new HubLink({
    connectionString: hub.connectionString.replace(/localhost:\d+/, `localhost:${proxy.port}`),
    ca: hub.ca,
    transport: 'mqtt',
    output: 'o',
    logger: testLogger(),
    backoffMs: [50, 100],
  });
  link.onMethod('ping', async (payload) => ({ status: 200, payload: { pong: payload } }));
  try {
    await link.open();
    assert.equal(link.state, 'connected');
    assert.equal(proxy.cut(), 1, 'the first connection was cut');
    await waitForSubscription(hub.hub, FILTERS.methods, hub.deviceId);
    const r = await hub.hub.invokeMethod(hub.deviceId, 'ping', { n: 1 }, { timeoutSeconds: 5 });
    assert.deepEqual(r, { status: 200, payload: { pong: { n: 1 } } });
  } finally {
    await link.close();
    await proxy.close();
    await hub.close();
  }
});
