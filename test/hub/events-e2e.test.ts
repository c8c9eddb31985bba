// The whole way of a track event, on the sliding-motorcycle clip with real
// YOLOX-Nano: the agent, as an IoT Edge module, sends percept.event/1 messages on output
// `events` (one `new` and one `end` for the motorcycle, the same id, in the chain with the
// windows), windows and events carry the zone and line counts, getStatus reports them, and
// getEvents and getEventSnapshot answer over the emulator's method API.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { startTestHub } from '../helpers/emulator.js';
import { startAgent, until } from '../helpers/agent.js';
import { YOLOX_NANO, tempDir } from '../helpers/paths.js';
import { clipsUnavailable, doneWhenClip } from '../helpers/clips.js';
import { messageDigest, GENESIS } from '../../src/telemetry/chain.js';
import type { ReceivedMessage } from '../../src/emulator/types.js';

const outputOf = (m: ReceivedMessage) => m.systemProperties.outputName ?? m.systemProperties.on ?? m.properties['$.on'];

interface EventBody {
  schema: string;
  type: string;
  id: string;
  label: string;
  source: { id: string; kind: string };
  startedAt: string;
  endedAt: string | null;
  snapshot: { at: string } | null;
  sourceCounts?: { zones: Array<{ zone: string; entered: number }>; lines: Array<{ line: string; forward: number; backward: number }> };
}

test('clip -> agent -> the emulator receives percept.event/1 on output events; getEvents, getEventSnapshot and getStatus answer', async (t) => {
  const why = clipsUnavailable();
  if (why) return t.skip(why);
  const clip = await doneWhenClip();
  const hub = await startTestHub({ deviceId: 'edge-box', moduleId: 'percept' });
  const state = tempDir();
  const config = path.join(state, 'percept.json');
  fs.writeFileSync(
    config,
    JSON.stringify({
      sources: [
        {
          id: 'clip',
          kind: 'video',
          uri: clip,
          zones: [
            {
              name: 'right',
              polygon: [
                [0.5, 0],
                [1, 0],
                [1, 1],
                [0.5, 1],
              ],
            },
          ],
          lines: [
            {
              name: 'middle',
              points: [
                [0.5, 0],
                [0.5, 1],
              ],
            },
          ],
        },
        // Keeps the agent running after the clip ends, for the methods.
        { id: 'idle', kind: 'synthetic', fps: 1 },
      ],
    }),
  );
  const agent = startAgent(
    [
      'run',
      '--config',
      config,
      '--model',
      'yolox-nano',
      '--model-path',
      YOLOX_NANO,
      '--state-dir',
      state,
      '--no-preview',
      '--output',
      'none',
      '--workers',
      '1',
    ],
    { stateDir: state, env: { ...hub.hub.edgeEnv('edge-box', 'percept'), PERCEPT_CONNECTION_STRING: '' } },
  );
  const call = (name: string, payload: unknown = null) => hub.hub.invokeMethod('edge-box', name, payload, { moduleId: 'percept', timeoutSeconds: 10 });
  try {
    const events = () => hub.hub.messages('edge-box', 'percept').filter((m) => m.properties.schema === 'percept.event/1');
    const ended = await until(
      'the motorcycle track ends',
      () => events().find((m) => (m.body as EventBody).type === 'end' && (m.body as EventBody).label === 'motorcycle'),
      240_000,
      500,
    );
    const moto = events().filter((m) => (m.body as EventBody).label === 'motorcycle' && (m.body as EventBody).type !== 'update');
    assert.deepEqual(
      moto.map((m) => (m.body as EventBody).type),
      ['new', 'end'],
      'exactly one new and one end',
    );
    const id = (ended.body as EventBody).id;
    assert.equal((moto[0]!.body as EventBody).id, id, 'the same track id');
    for (const m of events()) {
      assert.equal(outputOf(m), 'events');
      assert.equal(m.properties.eventType, 'event');
      if (m.properties.source === 'clip') assert.deepEqual((m.body as EventBody).source, { id: 'clip', kind: 'video' });
    }
    const endBody = ended.body as EventBody;
    // The motorcycle's end comes after it crossed the middle into the right half: its message says so.
    const counts = endBody.sourceCounts;
    assert.ok((counts?.zones.find((z) => z.zone === 'right')?.entered ?? 0) >= 1, `the end event's counts: ${JSON.stringify(counts)}`);
    const crossed = counts?.lines.find((l) => l.line === 'middle');
    assert.ok((crossed?.forward ?? 0) + (crossed?.backward ?? 0) >= 1, `the end event's counts: ${JSON.stringify(counts)}`);
    const secs = (Date.parse(endBody.endedAt!) - Date.parse(endBody.startedAt)) / 1000;
    assert.ok(secs > 1 && secs <= 6.5, `the track lasted ${secs} s (the motorcycle is in the picture for 6 s, and detected for part of it)`);

    // Methods, over the emulator's method API.
    const ge = await call('getEvents', { limit: 100 });
    assert.equal(ge.status, 200);
    const listed = (ge.payload as { events: Array<{ id: string; type: string }> }).events.filter((e) => e.id === id);
    assert.deepEqual([listed[0]?.type, listed.at(-1)?.type], ['new', 'end']);
    const snap = await call('getEventSnapshot', { id });
    assert.equal(snap.status, 200, JSON.stringify(snap.payload).slice(0, 300));
    assert.ok(JSON.stringify(snap.payload).length <= 128 * 1024);
    assert.equal((await sharp(Buffer.from((snap.payload as { image: string }).image, 'base64')).metadata()).format, 'jpeg');
    // The counts themselves are the tracker's (test/events); here: getStatus carries them.
    const st = (await call('getStatus')).payload as {
      events: {
        zones: Array<{ source: string; zone: string; entered: number }>;
        lines: Array<{ source: string; line: string; forward: number; backward: number }>;
      };
    };
    assert.ok(
      (st.events.zones.find((z) => z.source === 'clip' && z.zone === 'right')?.entered ?? 0) >= 1,
      `the right half was entered: ${JSON.stringify(st.events)}`,
    );
    const middle = st.events.lines.find((l) => l.source === 'clip' && l.line === 'middle');
    assert.ok((middle?.forward ?? 0) + (middle?.backward ?? 0) >= 1, `the middle was crossed: ${JSON.stringify(st.events)}`);
  } finally {
    assert.equal(await agent.stop(), 0, agent.stderr());
    await hub.close();
  }
  // Windows carry the counts, and everything is one chain.
  const msgs = hub.hub.messages('edge-box', 'percept');
  const windows = msgs.filter((m) => m.properties.schema === 'percept.detections/1' && m.properties.source === 'clip');
  assert.ok(
    windows.some((m) => ((m.body as { lines?: Array<{ line: string }> }).lines ?? []).some((l) => l.line === 'middle')),
    'windows carry the line counts',
  );
  for (const m of windows) assert.equal(outputOf(m), 'detections');
  let prev = GENESIS;
  for (const [i, m] of msgs.entries()) {
    const boot = m.properties['percept-boot']!;
    const seq = Number(m.properties['percept-seq']);
    assert.equal(seq, i + 1);
    assert.equal(m.properties['percept-prev'], prev);
    prev = messageDigest({ boot, seq, prev }, Buffer.from(m.bodyBase64, 'base64'), m.properties);
  }
});
