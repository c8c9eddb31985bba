// The agent's wiring of track events, in process, as an IoT Edge module: the pipeline's
// 'event's become percept.event/1 messages on output `events`; getEvents, getEventSnapshot and
// getStatus (zone and line counts) answer over the emulator's method API from the pipeline's
// event reader; the preview serves the same events. The events are the tracker's own, on a
// looping dog.jpg. The clip run is test/hub/events-e2e.test.ts.
import test from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { startTestHub } from '../helpers/emulator.js';
import { until } from '../helpers/agent.js';
import { jsonLines } from '../helpers/cli.js';
import { YOLOX_NANO, image, tempDir } from '../helpers/paths.js';
import { get, memoryLogger, streamFor } from '../web/helpers.js';
import { Agent } from '../../src/agent/agent.js';
import { registerMethods } from '../../src/agent/methods.js';
import { parseConfig } from '../../src/config/load.js';
import type { ReceivedMessage } from '../../src/emulator/types.js';

const outputOf = (m: ReceivedMessage) => m.systemProperties.outputName ?? m.systemProperties.on ?? m.properties['$.on'];

test(
  'the agent sends the pipeline track events on output events and answers getEvents, getEventSnapshot and getStatus from it',
  { timeout: 120_000 },
  async () => {
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
          zones: [
            {
              name: 'porch',
              polygon: [
                [0, 0.5],
                [0.5, 0.5],
                [0.5, 1],
                [0, 1],
              ],
            },
          ],
          lines: [
            {
              name: 'kerb',
              points: [
                [0.6, 0],
                [0.6, 1],
              ],
            },
          ],
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
      for (const id of sent)
        assert.ok(
          listed.some((e) => e.id === id),
          `getEvents lists ${id}`,
        );
      const withSnapshot = listed.find((e) => e.snapshot);
      assert.ok(withSnapshot, 'an event names a snapshot');
      const snap = await call('getEventSnapshot', { id: withSnapshot.id });
      assert.equal(snap.status, 200);
      assert.equal((await sharp(Buffer.from((snap.payload as { image: string }).image, 'base64')).metadata()).format, 'jpeg');

      const st = (await call('getStatus')).payload as {
        telemetry: { mode: string };
        events: { zones: Array<{ zone: string }>; lines: Array<{ line: string }> };
      };
      assert.equal(st.telemetry.mode, 'both');
      assert.ok(
        st.events.zones.some((z) => z.zone === 'porch'),
        JSON.stringify(st.events),
      );
      assert.ok(
        st.events.lines.some((l) => l.line === 'kerb'),
        JSON.stringify(st.events),
      );

      // The preview serves the same events.
      const port = jsonLines(text()).find((l) => l.msg === 'preview listening')?.port as number;
      const recent = JSON.parse((await get(port, '/recent-events')).body) as { events: Array<{ id: string }> };
      for (const id of sent)
        assert.ok(
          recent.events.some((e) => e.id === id),
          `the preview lists ${id}`,
        );
      // ...and tells its pages the configured zones and lines with the status.
      const sse = await streamFor(port, '/events', 10_000, (b) => b.includes('event: status'));
      const status = JSON.parse(/event: status\ndata: (.*)\n/.exec(sse.data.toString('utf8'))![1]!) as { layout: unknown };
      assert.deepEqual(status.layout, [
        {
          id: 'dog',
          zones: [
            {
              name: 'porch',
              points: [
                [0, 0.5],
                [0.5, 0.5],
                [0.5, 1],
                [0, 1],
              ],
            },
          ],
          lines: [
            {
              name: 'kerb',
              points: [
                [0.6, 0],
                [0.6, 1],
              ],
            },
          ],
        },
      ]);
    } finally {
      await agent.stop(2000);
      process.env = saved;
      await hub.close();
    }
    // The windows carry the counts.
    const windows = hub.hub.messages('edge-box', 'percept').filter((m) => m.properties.schema === 'percept.detections/1');
    assert.ok(windows.length >= 1);
    assert.ok(
      windows.some((m) => ((m.body as { zones?: Array<{ zone: string }> }).zones ?? []).some((z) => z.zone === 'porch')),
      'windows carry the zone counts',
    );
    for (const m of windows) assert.equal(outputOf(m), 'detections');
  },
);
