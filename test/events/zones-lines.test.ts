// Zones and lines on real video (the zone and line stay clear of the cup and table, still in the middle): the done-when clip's motorcycle (its left edge at
// -400 + (t - 2) x 280 px on a 1280 px frame) enters a zone and crosses a line when its bottom
// centre does, and leaves the zone when it is seen beyond it. Timed by the frame a count changes
// on (media time = (seq - 1) / 15), not by the clock. The zone comes from the config file, the
// line is set live, as the twin does.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { createLogger } from '../../src/log.js';
import type { PerceptEvent } from '../../src/events/types.js';
import { tempDir, YOLOX_NANO } from '../helpers/paths.js';
import { clipsUnavailable, doneWhenClip, doneWhenLeft, DONE_WHEN_FPS } from '../helpers/clips.js';

/** Media time at which the cut-out's centre reaches x (normalised). */
const centreAt = (x: number) => {
  // doneWhenLeft(t) + 200 = x * 1280, linear in t.
  const t0 = doneWhenLeft(2);
  return 2 + (x * 1280 - 200 - t0) / 280;
};

test('a zone reports the entry and exit, and a line the crossing, at the right frames', { skip: clipsUnavailable() }, async () => {
  const clip = await doneWhenClip();
  const dir = tempDir();
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      sources: [
        {
          id: 'cam',
          kind: 'video',
          uri: clip,
          zones: [
            {
              name: 'band',
              polygon: [
                [0.2, 0],
                [0.45, 0],
                [0.45, 1],
                [0.2, 1],
              ],
            },
          ],
        },
      ],
      model: { name: 'yolox-nano', path: YOLOX_NANO },
      preview: { enabled: false },
      stateDir: dir,
    }),
  );
  const cfg = loadConfig({ file, env: {} });
  const p = new Pipeline(cfg, { logger: createLogger({ level: 'silent' }), eventDir: path.join(dir, 'events') });
  const firstSeq = { entered: 0, exited: 0, forward: 0 };
  const events: PerceptEvent[] = [];
  p.on('event', (e) => events.push(e));
  p.on('result', (r) => {
    const z = p.zoneCounts()[0]!;
    const l = p.lineCounts()[0]!;
    if (z.entered && !firstSeq.entered) firstSeq.entered = r.seq;
    if (z.exited && !firstSeq.exited) firstSeq.exited = r.seq;
    if (l.forward && !firstSeq.forward) firstSeq.forward = r.seq;
  });
  const ended = new Promise<void>((resolve) => p.once('end', resolve));
  await p.start();
  // The line arrives live, as the twin sets it (the motorcycle appears only after 2 s).
  const live = structuredClone(cfg);
  // Drawn upwards: its left is the frame's left, so a ride to the right is forward.
  live.sources[0]!.lines = [
    {
      name: 'gate',
      points: [
        [0.25, 1],
        [0.25, 0],
      ],
    },
  ];
  p.configureEvents(live);
  assert.equal(p.zoneCounts().length, 1, 'the zone (and its counts) stay when only a line is added');
  await ended;
  const t = (seq: number) => (seq - 1) / DONE_WHEN_FPS;
  const within = (what: string, seq: number, lo: number, hi: number) =>
    assert.ok(seq > 0 && t(seq) >= lo && t(seq) <= hi, `${what} at ${t(seq).toFixed(2)} s (frame ${seq}), expected ${lo.toFixed(2)}..${hi.toFixed(2)} s`);
  // Entry: the bottom centre inside for 3 frames (inertia) after it crosses x = 0.2.
  within('zone entry', firstSeq.entered, centreAt(0.2), centreAt(0.2) + 0.5);
  within('line crossing', firstSeq.forward, centreAt(0.25), centreAt(0.25) + 0.4);
  // Exit: the model loses the motorcycle from about 4.3 s to 5.7 s, so it is seen beyond x = 0.45
  // (at 4.8 s) only when it is found again, and the exit comes 3 frames later.
  within('zone exit', firstSeq.exited, centreAt(0.45), 6.4);
  const [z] = p.zoneCounts();
  const [l] = p.lineCounts();
  assert.deepEqual(l && { forward: l.forward, backward: l.backward }, { forward: 1, backward: 0 });
  assert.deepEqual(z && { entered: z.entered, exited: z.exited, present: z.present }, { entered: 1, exited: 1, present: 0 });
  // The same counts in /metrics, and in the pipeline's status.
  const metrics = await p.metrics.render();
  assert.match(metrics, /percept_line_crossings_total\{source="cam",line="gate",direction="forward"\} 1\n/);
  assert.match(metrics, /percept_zone_entries_total\{source="cam",zone="band"\} 1\n/);
  assert.match(metrics, /percept_zone_exits_total\{source="cam",zone="band"\} 1\n/);
  assert.deepEqual(p.status().lines, p.lineCounts());
  // The motorcycle's updates say when it is in the band.
  const moto = events.filter((e) => e.label === 'motorcycle');
  assert.ok(
    moto.some((e) => e.type === 'update' && e.zones.includes('band')),
    JSON.stringify(moto.map((e) => [e.type, e.zones])),
  );
  assert.deepEqual(moto.find((e) => e.type === 'end')?.zones, []);
});
