// The events issue's acceptance clip, timed: the motorcycle's `new` and its last sighting fall
// where the clip and the tracker's rules put them, in media time ((seq - 1) / 15, the frame an
// event's capture time belongs to), not by the clock. The cut-out's left edge is at
// -400 + (t - 2) x 280 px on a 1280 px frame: it starts to enter at 2 s, is wholly in from
// 3.43 s, starts to leave at 6.57 s and is gone at 8 s.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import type { PerceptEvent, TrackView } from '../../src/events/types.js';
import { tempDir, YOLOX_NANO } from '../helpers/paths.js';
import { clipsUnavailable, doneWhenClip, doneWhenLeft, DONE_WHEN_FPS } from '../helpers/clips.js';

/** Media time at which the cut-out's left edge reaches x px. */
const leftAt = (x: number) => 2 + (x - doneWhenLeft(2)) / 280;
const WIDTH = 400;
const FRAME = 1280;

test('the done-when clip: the motorcycle is announced as it enters and last seen as it leaves', { skip: clipsUnavailable(), timeout: 300_000 }, async () => {
  const file = await doneWhenClip();
  const cfg = parseConfig({
    sources: [{ id: 'clip', kind: 'video', uri: file }],
    model: { name: 'yolox-nano', path: YOLOX_NANO },
    output: 'none',
  });
  const p = new Pipeline(cfg, { logger: createLogger({ level: 'silent' }), eventDir: tempDir() });
  const frames: Array<{ seq: number; at: number; tracks: TrackView[] }> = [];
  const events: PerceptEvent[] = [];
  p.on('result', (r) => frames.push({ seq: r.seq, at: r.capturedAt, tracks: r.tracks ?? [] }));
  p.on('event', (e) => events.push(e));
  const ended = new Promise<void>((resolve) => p.once('end', resolve));
  await p.start();
  await ended;
  assert.equal(frames.length, 150, 'every frame of the 10 s clip at 15 fps');

  const moto = events.filter((e) => e.label === 'motorcycle' && e.type !== 'update');
  assert.deepEqual(
    moto.map((e) => e.type),
    ['new', 'end'],
  );
  const [news, end] = moto as [PerceptEvent, PerceptEvent];
  assert.equal(news.id, end.id);
  const t = (seq: number) => (seq - 1) / DONE_WHEN_FPS;
  const shows = (f: (typeof frames)[number], is: (v: TrackView) => boolean) => f.tracks.some((v) => v.id === news.id && is(v));
  const within = (what: string, seq: number, lo: number, hi: number) =>
    assert.ok(
      seq > 0 && t(seq) >= lo - 1e-9 && t(seq) <= hi + 1e-9,
      `${what} at ${t(seq).toFixed(3)} s (frame ${seq}), expected ${lo.toFixed(3)}..${hi.toFixed(3)} s`,
    );

  // `new`: confirmed after max(fps / 2, 2) = 8 matched frames, so no sooner than 7 frames after
  // the first frame it is in (2 s), and no later than 7 frames after it is half in (a detector
  // that misses half a motorcycle still sees it), with the 2 misses in a row a tentative track
  // may have in between.
  const hits = Math.max(Math.ceil(DONE_WHEN_FPS / 2), 2);
  // (The frame it belongs to: the first with its capture time that shows the track confirmed.)
  const newSeq = frames.find((f) => f.at === news.at && shows(f, (v) => v.state !== 'tentative'))?.seq ?? 0;
  within('new', newSeq, 2 + (hits - 1) / DONE_WHEN_FPS, leftAt(-WIDTH / 2) + (hits - 1 + 2) / DONE_WHEN_FPS);

  // Its last sighting (`endedAt`): after it starts to leave (wholly in the frame before), and
  // before it is gone at 8 s.
  const last = frames.findLast((f) => shows(f, (v) => v.seen));
  assert.equal(end.endedAt, last?.at, 'endedAt is the capture time of the last frame that saw it');
  within('last sighting', last?.seq ?? 0, leftAt(FRAME - WIDTH), 8);
  const lastSeq = last?.seq ?? 0;
  // The end itself comes with the end of the file (its last frame): 5 s unseen (75 frames)
  // would be past the clip's end.
  assert.equal(end.at, frames.at(-1)?.at, 'the end of the file ends the track');
  console.log(`new at ${t(newSeq).toFixed(3)} s, last seen at ${t(lastSeq).toFixed(3)} s`);
});
