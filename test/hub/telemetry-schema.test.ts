// The agent's telemetry reaches the emulator through the real SDK over TLS with the
// documented schema, properties and message ids; the open window is published at the end.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startTestHub } from '../helpers/emulator.js';
import { agentArgs, startAgent } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';
import { messageDigest, GENESIS } from '../../src/telemetry/chain.js';
import { at, must } from '../helpers/at.js';

test('telemetry arrives with the documented schema and properties, chained, and the last window is flushed', async () => {
  const hub = await startTestHub();
  try {
    const state = tempDir();
    const agent = startAgent(agentArgs(hub, state, ['--frames', '12', '--telemetry-interval', '500', '--telemetry-mode', 'windows']), { stateDir: state });
    const code = await agent.exited;
    assert.equal(code, 0, agent.stderr());
    const msgs = hub.hub.messages(hub.deviceId);
    assert.ok(msgs.length >= 2, `several windows, got ${msgs.length}`);
    let prev = GENESIS;
    let frames = 0;
    for (const [i, m] of msgs.entries()) {
      assert.equal(m.systemProperties.contentType, 'application/json');
      assert.equal(m.properties.schema, 'percept.detections/1');
      assert.equal(m.properties.eventType, 'detections');
      assert.equal(m.properties.source, 'dog');
      const boot = must(m.properties['percept-boot'], 'percept-boot');
      const seq = Number(m.properties['percept-seq']);
      assert.equal(seq, i + 1);
      assert.equal(m.messageId, `${boot}:${seq}`);
      assert.equal(m.properties['percept-prev'], prev);
      prev = messageDigest({ boot, seq, prev }, Buffer.from(m.bodyBase64, 'base64'), m.properties);
      const body = m.body as {
        schema: string;
        deviceId: string;
        model: { name: string; sha256: string };
        frames: Array<{ detections: Array<{ label: string; confidence: number; box: number[]; boxNorm: number[] }> }>;
        counts: Record<string, number>;
        window: { frames: number };
      };
      assert.equal(body.schema, 'percept.detections/1');
      assert.equal(body.deviceId, hub.deviceId);
      assert.equal(body.model.name, 'yolox-nano');
      assert.match(body.model.sha256, /^[0-9a-f]{64}$/);
      assert.equal(body.window.frames, body.frames.length);
      for (const f of body.frames) {
        assert.deepEqual(f.detections.map((d) => d.label).sort(), ['bicycle', 'car', 'dog']);
        for (const d of f.detections) {
          assert.equal(typeof d.confidence, 'number');
          assert.equal(d.box.length, 4);
          assert.ok(d.boxNorm.every((v) => v >= 0 && v <= 1));
        }
      }
      assert.equal(body.counts.dog, body.frames.length);
      frames += body.frames.length;
    }
    assert.equal(frames, 12, 'every result of the run is in a message, the last window included');
    // Checkpoints: signatures ride on telemetry, at most one a second, and the run's last
    // message is signed (software signer by default, marked as such).
    const key = crypto.createPublicKey(fs.readFileSync(path.join(state, 'signing-key.pem')));
    const signed = msgs.filter((m) => m.properties['percept-sig']);
    assert.ok(signed.length >= 1 && signed.length <= msgs.length);
    assert.ok(msgs.at(-1)!.properties['percept-sig'], 'the last message closes the chain with a signature');
    for (const m of signed) {
      assert.equal(m.properties['percept-att'], 'software');
      const digest = messageDigest(
        {
          boot: must(m.properties['percept-boot'], 'percept-boot'),
          seq: Number(must(m.properties['percept-seq'], 'percept-seq')),
          prev: must(m.properties['percept-prev'], 'percept-prev'),
        },
        Buffer.from(m.bodyBase64, 'base64'),
        m.properties,
      );
      assert.ok(
        crypto.verify('sha256', Buffer.from(digest, 'hex'), key, Buffer.from(must(m.properties['percept-sig'], 'percept-sig'), 'base64')),
        'the signature verifies',
      );
    }
    assert.match(agent.stderr(), /"drained":true/);
  } finally {
    await hub.close();
  }
});

test("the Percept-compatible encoder sends azureeyemodule's body unchanged in shape", async () => {
  const hub = await startTestHub();
  try {
    const state = tempDir();
    const agent = startAgent(agentArgs(hub, state, ['--frames', '4', '--telemetry-schema', 'percept-compat', '--telemetry-mode', 'windows']), {
      stateDir: state,
    });
    assert.equal(await agent.exited, 0, agent.stderr());
    const msgs = hub.hub.messages(hub.deviceId);
    assert.ok(msgs.length >= 1);
    for (const m of msgs) {
      assert.equal(m.properties.schema, 'azureeye.neural-network/1');
      const body = m.body as Record<string, unknown>;
      assert.deepEqual(Object.keys(body), ['NEURAL_NETWORK']);
      for (const d of body.NEURAL_NETWORK as Array<Record<string, unknown>>) {
        assert.deepEqual(Object.keys(d).sort(), ['bbox', 'confidence', 'label', 'timestamp']);
        assert.equal(typeof d.confidence, 'string');
        assert.match(String(d.timestamp), /^\d{19}$/);
        assert.equal((d.bbox as number[]).length, 4);
      }
      assert.ok(m.properties['percept-seq'], 'chain fields ride in properties');
    }
  } finally {
    await hub.close();
  }
});

test('a module identity works through ModuleClient', async () => {
  const hub = await startTestHub({ deviceId: 'edge-device', moduleId: 'percept' });
  try {
    const state = tempDir();
    const agent = startAgent(agentArgs(hub, state, ['--frames', '3']), { stateDir: state });
    assert.equal(await agent.exited, 0, agent.stderr());
    const msgs = hub.hub.messages('edge-device', 'percept');
    assert.ok(msgs.length >= 1);
    assert.equal(at(msgs, 0).moduleId, 'percept');
    assert.equal((at(msgs, 0).body as { moduleId: string }).moduleId, 'percept');
  } finally {
    await hub.close();
  }
});
