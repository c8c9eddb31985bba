// The agent's wiring of track events, in process, as an IoT Edge module: the pipeline's
// 'event's become percept.event/1 messages on output `events`; getEvents, getEventSnapshot and
// getStatus (zone and line counts) answer over the emulator's method API from the pipeline's
// event reader; the preview serves the same events. With the tracker (src/events/tracker.ts)
// the events are its own, on a looping dog.jpg; without it a stand-in on the Pipeline gives
// the contract's members (events, zoneCounts, lineCounts) and the test emits the events, so
// the agent's side is checked either way. The clip run is test/hub/events-e2e.test.ts.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { startTestHub } from '../helpers/emulator.js';
import { until } from '../helpers/agent.js';
import { jsonLines } from '../helpers/cli.js';
import { MemoryEventReader, trackEvent } from '../helpers/events.js';
import { ROOT, YOLOX_NANO, image, tempDir } from '../helpers/paths.js';
import { get, memoryLogger, streamFor } from '../web/helpers.js';
import { Agent } from '../../src/agent/agent.js';
import { registerMethods } from '../../src/agent/methods.js';
import { parseConfig } from '../../src/config/load.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import type { EventReader, LineCount, ZoneCount } from '../../src/events/types.js';
import type { ReceivedMessage } from '../../src/emulator/types.js';

const HAS_TRACKER = fs.existsSync(path.join(ROOT, 'src', 'events', 'tracker.ts'));
const outputOf = (m: ReceivedMessage) => m.systemProperties.outputName ?? m.systemProperties.on ?? m.properties['$.on'];

/** Until the tracker lands: each Pipeline gets a reader and fixed counts, the contract's members. */
function standIn(): void {
  const readers = new WeakMap<object, MemoryEventReader>();
  Object.defineProperty(Pipeline.prototype, 'events', {
    configurable: true,
    get(this: object): EventReader {
      let r = readers.get(this);
      if (!r) readers.set(this, (r = new MemoryEventReader()));
      return r;
    },
  });
  Object.assign(Pipeline.prototype, {
    zoneCounts: (): ZoneCount[] => [{ source: 'dog', zone: 'porch', entered: 1, exited: 0, present: 1 }],
    lineCounts: (): LineCount[] => [{ source: 'dog', line: 'kerb', forward: 0, backward: 1 }],
  });
}

test('the agent sends the pipeline track events on output events and answers getEvents, getEventSnapshot and getStatus from it', { timeout: 120_000 }, async () => {
  if (!HAS_TRACKER) standIn();
  const hub = await startTestHub({ deviceId: 'edge-box', moduleId: 'percept' });
  const saved = { ...process.env };
  Object.assign(process.env, hub.hub.edgeEnv('edge-box', 'percept'));
  const { logger, text } = memoryLogger('info');
  const cfg = parseConfig({
    sources: [
      {
        id: 'dog',
        kind: 'image',
        uri: image('dog.jpg'),
        loop: true,
        fps: 4,
        zones: [{ name: 'porch', points: [[0, 0.5], [0.5, 0.5], [0.5, 1], [0, 1]] }],
        lines: [{ name: 'kerb', points: [[0.6, 0], [0.6, 1]] }],
      },
    ],
    model: { name: 'yolox-nano', path: YOLOX_NANO },
    workers: 1,
    threads: 1,
    output: 'none',
    stateDir: tempDir('percept-event-agent-'),
    preview: { port: 0 },
    hub: { edge: true },
  });
  const agent = new Agent(cfg, { logger });
  const call = (name: string, payload: unknown = null) => hub.hub.invokeMethod('edge-box', name, payload, { moduleId: 'percept', timeoutSeconds: 10 });
  try {
    await agent.start();
    registerMethods(agent.link!, agent);
    await agent.connect();
    if (!HAS_TRACKER) {
      // The stand-in's events, as the tracker would emit them for the dog, with its snapshot.
      const p = agent.pipeline!;
      const reader = (p as unknown as { events: MemoryEventReader }).events;
      reader.snapshots.set('dog-1', await sharp(image('dog.jpg')).extract({ left: 120, top: 200, width: 220, height: 360 }).jpeg().toBuffer());
      const at = Date.now();
      for (const e of [trackEvent({ type: 'new', id: 'dog-1', label: 'dog', source: 'dog', at, startedAt: at - 500 }), trackEvent({ type: 'update', id: 'dog-1', label: 'dog', source: 'dog', at: at + 1000, startedAt: at - 500, stationary: true })]) {
        reader.add(e);
        (p.emit as (ev: string, e: unknown) => boolean)('event', e);
      }
    }
    const events = () => hub.hub.messages('edge-box', 'percept').filter((m) => m.properties.schema === 'percept.event/1');
    await until('track events at the hub', () => events().length >= 1, 60_000);
    for (const m of events()) {
      assert.equal(outputOf(m), 'events');
      assert.deepEqual((m.body as { source: unknown }).source, { id: 'dog', kind: 'image' });
    }
    const sent = new Set(events().map((m) => (m.body as { id: string }).id));

    const ge = await call('getEvents');
    assert.equal(ge.status, 200);
    const listed = (ge.payload as { events: Array<{ id: string; snapshot: unknown }> }).events;
    for (const id of sent) assert.ok(listed.some((e) => e.id === id), `getEvents lists ${id}`);
    const withSnapshot = listed.find((e) => e.snapshot);
    assert.ok(withSnapshot, 'an event names a snapshot');
    const snap = await call('getEventSnapshot', { id: withSnapshot.id });
    assert.equal(snap.status, 200);
    assert.equal((await sharp(Buffer.from((snap.payload as { image: string }).image, 'base64')).metadata()).format, 'jpeg');

    const st = (await call('getStatus')).payload as { telemetry: { mode: string }; events: { zones: Array<{ zone: string }>; lines: Array<{ line: string }> } };
    assert.equal(st.telemetry.mode, 'both');
    assert.ok(st.events.zones.some((z) => z.zone === 'porch'), JSON.stringify(st.events));
    assert.ok(st.events.lines.some((l) => l.line === 'kerb'), JSON.stringify(st.events));

    // The preview serves the same events.
    const port = jsonLines(text()).find((l) => l.msg === 'preview listening')?.port as number;
    const recent = JSON.parse((await get(port, '/recent-events')).body) as { events: Array<{ id: string }> };
    for (const id of sent) assert.ok(recent.events.some((e) => e.id === id), `the preview lists ${id}`);
    // ...and tells its pages the configured zones and lines with the status.
    const sse = await streamFor(port, '/events', 10_000, (b) => b.includes('event: status'));
    const status = JSON.parse(/event: status\ndata: (.*)\n/.exec(sse.data.toString('utf8'))![1]!) as { layout: unknown };
    assert.deepEqual(status.layout, [{ id: 'dog', zones: [{ name: 'porch', points: [[0, 0.5], [0.5, 0.5], [0.5, 1], [0, 1]] }], lines: [{ name: 'kerb', points: [[0.6, 0], [0.6, 1]] }] }]);
  } finally {
    await agent.stop(2000);
    process.env = saved;
    await hub.close();
  }
  // The windows carry the counts.
  const windows = hub.hub.messages('edge-box', 'percept').filter((m) => m.properties.schema === 'percept.detections/1');
  assert.ok(windows.length >= 1);
  assert.ok(windows.some((m) => ((m.body as { zones?: Array<{ zone: string }> }).zones ?? []).some((z) => z.zone === 'porch')), 'windows carry the zone counts');
  for (const m of windows) assert.equal(outputOf(m), 'detections');
});
