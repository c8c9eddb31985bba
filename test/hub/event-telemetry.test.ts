// Track events reach the hub as percept.event/1 messages through the same chained, durable
// outbox as the windows: as an IoT Edge module they leave by output `events`, windows by
// `detections`, in one unbroken chain; window and event messages carry the zone and line counts;
// telemetry.mode windows|events|both picks what is sent, live. The telemetry path runs in this
// process (real outbox, link, sender and software signer against the emulator) and is fed
// events here; the tracker's own run is test/hub/events-e2e.test.ts.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startTestHub } from '../helpers/emulator.js';
import { testLogger } from '../helpers/delivery.js';
import { tempDir } from '../helpers/paths.js';
import { T0, trackEvent } from '../helpers/events.js';
import { until } from '../helpers/agent.js';
import { Outbox } from '../../src/hub/outbox.js';
import { HubLink } from '../../src/hub/link.js';
import { Sender } from '../../src/hub/sender.js';
import { SoftwareSigner } from '../../src/attest/software.js';
import { TelemetryPath } from '../../src/agent/telemetry.js';
import { parseConfig } from '../../src/config/load.js';
import { messageDigest, GENESIS } from '../../src/telemetry/chain.js';
import type { InferenceResult } from '../../src/inference/pool.js';
import type { LoadedModel } from '../../src/pipeline/model.js';
import type { ReceivedMessage } from '../../src/emulator/types.js';

const MODEL = { manifest: { name: 'yolox-nano', version: '1' }, sha256: 'b'.repeat(64) } as unknown as LoadedModel;

function result(seq: number, capturedAt: number): InferenceResult {
  return {
    source: 'door',
    seq,
    capturedAt,
    width: 640,
    height: 480,
    detections: [{ classId: 0, label: 'person', confidence: 0.9, box: [10, 20, 100, 400], boxNorm: [0.02, 0.04, 0.16, 0.83] }],
    timings: { preprocessMs: 1, inferenceMs: 1, decodeMs: 1, queueMs: 0, totalMs: 3 },
  };
}

const outputOf = (m: ReceivedMessage) => m.systemProperties.outputName ?? m.systemProperties.on ?? m.properties['$.on'];

test(
  'as an IoT Edge module, events leave by output `events` and windows by `detections`, in one chain; the mode picks what is sent',
  { timeout: 60_000 },
  async () => {
    const hub = await startTestHub({ deviceId: 'edge-box', moduleId: 'percept' });
    const saved = { ...process.env };
    Object.assign(process.env, hub.hub.edgeEnv('edge-box', 'percept'));
    const logger = testLogger();
    const state = tempDir();
    const telemetry = parseConfig({ sources: [{ id: 'door', kind: 'demo' }] }).telemetry;
    assert.equal(telemetry.mode, 'both', 'both by default');
    const outbox = new Outbox(path.join(state, 'outbox.db'));
    const link = new HubLink({ edge: true, transport: 'mqtt', output: telemetry.output, eventsOutput: telemetry.eventsOutput, logger, backoffMs: [100, 1000] });
    const sender = new Sender(outbox, link, logger);
    const signer = await SoftwareSigner.open(path.join(state, 'signing-key.pem'));
    const zones = [{ source: 'door', zone: 'entrance', entered: 1, exited: 0, present: 1 }];
    const lines = [{ source: 'door', line: 'threshold', forward: 1, backward: 0 }];
    const path_ = new TelemetryPath({
      outbox,
      sender,
      signer,
      identity: { deviceId: link.deviceId, moduleId: link.moduleId },
      telemetry: { ...telemetry, intervalMs: 1000 },
      checkpointMs: 1000,
      logger,
      tallies: (source) => ({ zones: zones.filter((z) => z.source === source), lines: lines.filter((l) => l.source === source) }),
    });
    try {
      sender.start();
      await link.open();
      const received = () => hub.hub.messages('edge-box', 'percept');
      const bodies = (schema: string) => received().filter((m) => m.properties.schema === schema);

      // both: a window (closed by the next window's frame) and the events of one track.
      path_.add(result(1, T0 + 100), MODEL, 'demo');
      path_.addEvent(trackEvent({ source: 'door', type: 'new', at: T0 + 500 }), 'demo');
      path_.add(result(2, T0 + 1100), MODEL, 'demo');
      path_.addEvent(trackEvent({ source: 'door', type: 'end', at: T0 + 1500, endedAt: T0 + 1400 }), 'demo');
      await until('a window and two events', () => bodies('percept.detections/1').length >= 1 && bodies('percept.event/1').length >= 2);

      // windows only: the next event is not sent; events only: the next window is not sent.
      path_.configure({ ...telemetry, intervalMs: 1000, mode: 'windows' });
      path_.addEvent(trackEvent({ id: 'door-8', type: 'new', at: T0 + 2500 }), 'demo');
      path_.add(result(3, T0 + 2100), MODEL, 'demo');
      // (Capture times in the past: each window closes by the grace timer, one per frame here.)
      await until('the third window', () => bodies('percept.detections/1').length >= 3);
      path_.configure({ ...telemetry, intervalMs: 1000, mode: 'events' });
      path_.add(result(4, T0 + 3100), MODEL, 'demo');
      path_.add(result(5, T0 + 4100), MODEL, 'demo');
      path_.addEvent(trackEvent({ id: 'door-9', type: 'new', at: T0 + 4500 }), 'demo');
      await until('the third event', () => bodies('percept.event/1').length >= 3);
      await path_.close();
      await until('every message acknowledged', () => outbox.stats().depth === 0);

      const msgs = received();
      const events = bodies('percept.event/1');
      const windows = bodies('percept.detections/1');
      assert.deepEqual(
        events.map((m) => [m.properties.type, (m.body as { id: string }).id]),
        [
          ['new', 'door-7'],
          ['end', 'door-7'],
          ['new', 'door-9'],
        ],
        'door-8 was not sent in windows mode',
      );
      assert.deepEqual(
        windows.flatMap((m) => (m.body as { frames: Array<{ seq: number }> }).frames.map((f) => f.seq)),
        [1, 2, 3],
        'frames 4 and 5 were not sent in events mode',
      );
      for (const m of events) {
        assert.equal(outputOf(m), 'events');
        assert.equal(m.properties.eventType, 'event');
        assert.equal(m.properties.source, 'door');
        assert.equal(m.properties.label, 'person');
        const b = m.body as { schema: string; deviceId: string; moduleId: string; source: { id: string; kind: string } };
        assert.equal(b.schema, 'percept.event/1');
        assert.equal(b.deviceId, 'edge-box');
        assert.equal(b.moduleId, 'percept');
        assert.deepEqual(b.source, { id: 'door', kind: 'demo' });
        // The counts reach the cloud in events mode too (door-9 was sent with no window after it).
        assert.deepEqual((m.body as { sourceCounts?: unknown }).sourceCounts, {
          zones: [{ zone: 'entrance', entered: 1, exited: 0, present: 1 }],
          lines: [{ line: 'threshold', forward: 1, backward: 0 }],
        });
      }
      for (const m of windows) {
        assert.equal(outputOf(m), 'detections');
        const b = m.body as { zones: unknown; lines: unknown };
        assert.deepEqual(b.zones, [{ zone: 'entrance', entered: 1, exited: 0, present: 1 }]);
        assert.deepEqual(b.lines, [{ line: 'threshold', forward: 1, backward: 0 }]);
      }
      // One chain across both kinds (and the closing checkpoint), signed at its tail.
      let prev = GENESIS;
      for (const [i, m] of msgs.entries()) {
        const boot = m.properties['percept-boot']!;
        const seq = Number(m.properties['percept-seq']);
        assert.equal(seq, i + 1);
        assert.equal(m.properties['percept-prev'], prev);
        prev = messageDigest({ boot, seq, prev }, Buffer.from(m.bodyBase64, 'base64'), m.properties);
      }
      assert.ok(msgs.at(-1)!.properties['percept-sig'], 'the tail is signed');
    } finally {
      await sender.stop();
      await link.close();
      outbox.close();
      await signer.close();
      process.env = saved;
      await hub.close();
    }
  },
);
